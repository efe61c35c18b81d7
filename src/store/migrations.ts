/**
 * The store's schema, as numbered migrations applied in order and recorded in `schema_migrations`.
 * A migration, once released, is never edited: a change is a new migration at the end.
 *
 * `migrate` takes a PostgreSQL advisory lock for its transaction, so adapter instances that start at
 * once against one server apply each migration once; the others wait and then find nothing to do.
 * DDL is transactional in PostgreSQL: a migration that fails leaves nothing behind.
 */
import type { SqlClient } from './sql-client.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** One statement each (PGlite's extended protocol runs one at a time). */
  readonly statements: readonly string[];
}

/** A trigger function that refuses to change or remove rows of an append-only table. */
const REFUSE_CHANGE = `
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END
$$`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'plans, plan versions and the audit log',
    statements: [
      REFUSE_CHANGE,
      // Every version of every plan, as the SIP model has it; immutable once written.
      `CREATE TABLE plan_versions (
        plan_id text NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        plan jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        recorded_by text NOT NULL,
        PRIMARY KEY (plan_id, version),
        CHECK (plan ->> 'id' = plan_id AND plan ->> 'version' = version::text)
      )`,
      `CREATE TRIGGER plan_versions_append_only BEFORE UPDATE OR DELETE ON plan_versions
        FOR EACH ROW EXECUTE FUNCTION refuse_change()`,
      `CREATE TRIGGER plan_versions_no_truncate BEFORE TRUNCATE ON plan_versions
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()`,
      // One row per plan: its current version and what searches ask, derived from that version when it
      // is written (src/store/search-columns.ts). The primary key is what makes concurrent creates safe.
      `CREATE TABLE plans (
        plan_id text PRIMARY KEY,
        version integer NOT NULL,
        person_identifier text NOT NULL,
        status text NOT NULL CHECK (status IN ('draft', 'active', 'completed', 'revoked')),
        principal_keys text[] NOT NULL,
        next_follow_up date,
        consent_ends date,
        closed boolean NOT NULL,
        FOREIGN KEY (plan_id, version) REFERENCES plan_versions (plan_id, version) DEFERRABLE INITIALLY DEFERRED
      )`,
      `CREATE INDEX plans_person_identifier ON plans (person_identifier)`,
      `CREATE INDEX plans_status ON plans (status)`,
      `CREATE INDEX plans_principal_keys ON plans USING gin (principal_keys)`,
      `CREATE INDEX plans_next_follow_up ON plans (next_follow_up)`,
      `CREATE INDEX plans_open_next_follow_up ON plans (next_follow_up) WHERE NOT closed`,
      `CREATE INDEX plans_consent_ends ON plans (consent_ends)`,
      // Who read or changed what, when, on whose behalf (Patientdatalagen): appended to, never changed.
      `CREATE TABLE audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL,
        organization text NOT NULL,
        agent text,
        plan_id text,
        person_identifier text,
        action text NOT NULL CHECK (action IN ('create', 'read', 'update', 'search', 'delete', 'execute')),
        what text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('success', 'refused', 'failed')),
        detail text
      )`,
      `CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC)`,
      `CREATE INDEX audit_log_person ON audit_log (person_identifier, at DESC, id DESC)`,
      `CREATE INDEX audit_log_organization ON audit_log (organization, at DESC, id DESC)`,
      `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION refuse_change()`,
      `CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()`,
    ],
  },
  {
    version: 2,
    name: 'the FHIR resources of each plan version',
    statements: [
      // For each plan version written, the (type, id) of every resource of its FHIR view
      // (src/fhir/resource-ids.ts, handed to the store by the writer), so `GET /fhir/{type}/{id}` finds the plan. Ids are stable across
      // versions, so a pair is recorded once; shared master data leads to every plan that names it.
      `CREATE TABLE plan_resources (
        resource_type text NOT NULL,
        resource_id text NOT NULL,
        plan_id text NOT NULL REFERENCES plans (plan_id),
        PRIMARY KEY (resource_type, resource_id, plan_id)
      )`,
      `CREATE TRIGGER plan_resources_append_only BEFORE UPDATE OR DELETE ON plan_resources
        FOR EACH ROW EXECUTE FUNCTION refuse_change()`,
    ],
  },
  {
    version: 3,
    name: 'audit log searches by agent and by plan',
    statements: [
      // The FHIR AuditEvent search by agent (the token's subject), and the review of a principal's plans.
      `CREATE INDEX audit_log_agent ON audit_log (agent, at DESC, id DESC)`,
      `CREATE INDEX audit_log_plan ON audit_log (plan_id, at DESC, id DESC)`,
    ],
  },
  {
    version: 4,
    name: 'plan versions as written, with the model that wrote them',
    statements: [
      // A version is kept as the JSON text the SIP model made of it (`document`, type json: the text as
      // given, key order included, and handed back without jsonb's conversion), with the model that
      // parsed it (src/sip/model-version.ts), so a version written by the model running now is read
      // back without parsing it again. Versions written before keep `plan` (jsonb) and no model, and
      // are parsed when read; each row has the one form or the other.
      `ALTER TABLE plan_versions ADD COLUMN document json`,
      `ALTER TABLE plan_versions ADD COLUMN model text`,
      `ALTER TABLE plan_versions ALTER COLUMN plan DROP NOT NULL`,
      `ALTER TABLE plan_versions ADD CONSTRAINT plan_versions_one_form CHECK ((plan IS NULL) <> (document IS NULL))`,
      `ALTER TABLE plan_versions ADD CONSTRAINT plan_versions_document_names_version
        CHECK (document ->> 'id' = plan_id AND document ->> 'version' = version::text)`,
    ],
  },
  {
    version: 5,
    name: 'the outbox: the deliveries of each plan version to its receivers',
    statements: [
      // One row per (plan, version, receiver), written in the transaction that writes the version
      // (issue #14, DESIGN.md §5): pending → delivered | withheld (consent said no when sending) | dead
      // (a dead letter, with its reason). src/store/outbox.ts claims and settles the rows.
      `CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        plan_id text NOT NULL,
        version integer NOT NULL,
        receiver_id text NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'withheld', 'dead')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        not_before timestamptz,
        last_status integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz,
        UNIQUE (plan_id, receiver_id, version),
        FOREIGN KEY (plan_id, version) REFERENCES plan_versions (plan_id, version),
        CHECK ((state = 'pending') = (ended_at IS NULL))
      )`,
      `CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending'`,
      `CREATE INDEX outbox_state ON outbox (state, id)`,
      `CREATE INDEX outbox_receiver ON outbox (receiver_id, id)`,
    ],
  },
  {
    version: 6,
    name: 'what a read derives from a plan version alone, kept with it',
    statements: [
      // What a read of a version derives from the plan alone (src/http/derived-view.ts), computed once
      // when the version is written, or by the first read of a version written before: the findings of
      // the SIP rules that do not depend on the instant (\`basis\`, JSON text), and below the JSON text of
      // each FHIR resource of its view whose mapping does not depend on the instant either (all but
      // Consent). \`deriver\` names the mapping, model and rules that computed it: a server running other
      // ones asks for its own and derives anew. Nothing that depends on the moment of a read is kept
      // here: consent in force is judged at every read. Rows are immutable, as the versions are.
      `CREATE TABLE plan_version_derived (
        plan_id text NOT NULL,
        version integer NOT NULL,
        deriver text NOT NULL,
        basis text NOT NULL,
        PRIMARY KEY (plan_id, version, deriver),
        FOREIGN KEY (plan_id, version) REFERENCES plan_versions (plan_id, version)
      )`,
      // A resource's text is split where the read puts the version's meta.versionId and meta.lastUpdated.
      `CREATE TABLE plan_version_texts (
        plan_id text NOT NULL,
        version integer NOT NULL,
        deriver text NOT NULL,
        resource_type text NOT NULL,
        resource_id text NOT NULL,
        head text NOT NULL,
        tail text NOT NULL,
        PRIMARY KEY (plan_id, version, deriver, resource_type, resource_id),
        FOREIGN KEY (plan_id, version, deriver) REFERENCES plan_version_derived (plan_id, version, deriver) DEFERRABLE INITIALLY DEFERRED
      )`,
      `CREATE TRIGGER plan_version_derived_append_only BEFORE UPDATE OR DELETE ON plan_version_derived
        FOR EACH ROW EXECUTE FUNCTION refuse_change()`,
      `CREATE TRIGGER plan_version_texts_append_only BEFORE UPDATE OR DELETE ON plan_version_texts
        FOR EACH ROW EXECUTE FUNCTION refuse_change()`,
    ],
  },
  {
    version: 7,
    name: 'an operator may give up a dead delivery: outbox state skipped',
    statements: [
      // skipped: a dead letter an operator gave up (POST /exchange/deliveries/{id}/skip), final, so
      // later versions to the same receiver are no longer held back (src/store/outbox.ts). The
      // constraint is migration 5's column CHECK, which PostgreSQL named outbox_state_check.
      `ALTER TABLE outbox DROP CONSTRAINT outbox_state_check`,
      `ALTER TABLE outbox ADD CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'delivered', 'withheld', 'dead', 'skipped'))`,
    ],
  },
  {
    version: 8,
    name: 'what access and the instant\'s rules read of a plan version, kept beside its send basis',
    statements: [
      // The version's judging summary (src/sip/plan-summary.ts, JSON text): the plan with only what
      // access and the rules that read the instant need (parties, consents, follow-ups, closure …), so
      // a read answered from the kept texts does not parse the whole plan document. Null for derived
      // rows written before this migration: a read then judges from the whole plan, as before.
      `ALTER TABLE plan_version_derived ADD COLUMN summary text`,
    ],
  },
  {
    version: 9,
    name: 'the versions of every plan in the order they were recorded',
    statements: [
      // GET /fhir/CarePlan/_history walks the versions of every plan newest first
      // (PlanStore.recentVersions): read backwards, this index gives them in that order, and a page
      // starts where the last one ended without sorting the table.
      `CREATE INDEX plan_versions_recorded ON plan_versions (recorded_at, plan_id, version)`,
    ],
  },
  {
    version: 10,
    name: 'the large texts of a version compressed with lz4 where the server has it',
    statements: [
      // A version's document (≈ 10 kB), its judging summary (≈ 3 kB) and the kept texts of its
      // resources (≈ 55 kB, a CarePlan's ≈ 13 kB) are over the size at which PostgreSQL compresses a
      // value (TOAST), with pglz by default. lz4 compresses ≈ 4× and decompresses ≈ 2× faster at a
      // like ratio, and a transaction writes all of these while every read and every delivery reads
      // some (docs/performance.md, "lz4"). Only values written from now on are lz4; older ones stay
      // readable as they are. A server built without lz4 (PGlite is one) refuses the setting with
      // feature_not_supported, and one older than PostgreSQL 14 has no such setting: either keeps
      // pglz, and the migration still counts as applied.
      `DO $$
      BEGIN
        IF current_setting('server_version_num')::integer >= 140000 THEN
          EXECUTE 'ALTER TABLE plan_versions ALTER COLUMN document SET COMPRESSION lz4, ALTER COLUMN plan SET COMPRESSION lz4';
          EXECUTE 'ALTER TABLE plan_version_derived ALTER COLUMN summary SET COMPRESSION lz4, ALTER COLUMN basis SET COMPRESSION lz4';
          EXECUTE 'ALTER TABLE plan_version_texts ALTER COLUMN head SET COMPRESSION lz4, ALTER COLUMN tail SET COMPRESSION lz4';
        END IF;
      EXCEPTION WHEN feature_not_supported THEN
        RAISE NOTICE 'this PostgreSQL server has no lz4: large values stay compressed with pglz';
      END
      $$`,
    ],
  },
  {
    version: 11,
    name: 'a version\'s traffic light and status, kept with what is derived from it',
    statements: [
      // What a SIP answer says of a version beside its plan (src/sip/lifecycle.ts `trafficLight`,
      // `planStatus`: functions of the plan alone; `TRAFFIC_LIGHTS`, `PLAN_STATUSES` are the CHECKs' lists), so a SIP read or search that answers the plan's
      // stored text judges on the kept summary and parses no plan document (src/http/sip-routes.ts).
      // Null for derived rows written before: such a read parses the plan, as before.
      `ALTER TABLE plan_version_derived ADD COLUMN traffic_light text CHECK (traffic_light IN ('red', 'yellow', 'green'))`,
      `ALTER TABLE plan_version_derived ADD COLUMN plan_status text CHECK (plan_status IN ('draft', 'active', 'completed', 'revoked'))`,
      `ALTER TABLE plan_version_derived ADD CONSTRAINT plan_version_derived_standing CHECK ((traffic_light IS NULL) = (plan_status IS NULL))`,
    ],
  },
  {
    version: 12,
    name: 'a version\'s derived texts but its CarePlan\'s packed on its derived row',
    statements: [
      // The texts of a version's resources but the CarePlan's, packed (src/store/kept-texts.ts): their
      // types and ids, the 2n + 1 byte offsets where each head and tail starts and ends (an SQL read
      // cuts the bytes by them), the same offsets in UTF-16 code units (the outbox cuts the decoded text
      // by them), and every head and tail as UTF-8 one after the other — one row where there were ≈ 30 rows of
      // plan_version_texts, each with its index entry. Null on rows derived before, whose texts stay
      // rows; every read looks in both places. The CHECK keeps the five together and the arrays of one
      // length (each IS NOT NULL spelt out: a CHECK that is null passes).
      `ALTER TABLE plan_version_derived ADD COLUMN text_types text[], ADD COLUMN text_ids text[], ADD COLUMN text_bounds integer[], ADD COLUMN text_units integer[], ADD COLUMN texts bytea`,
      `ALTER TABLE plan_version_derived ADD CONSTRAINT plan_version_derived_packed CHECK (
        (texts IS NULL AND text_types IS NULL AND text_ids IS NULL AND text_bounds IS NULL AND text_units IS NULL)
        OR (texts IS NOT NULL AND text_types IS NOT NULL AND text_ids IS NOT NULL AND text_bounds IS NOT NULL AND text_units IS NOT NULL
          AND cardinality(text_ids) = cardinality(text_types) AND cardinality(text_bounds) = 2 * cardinality(text_types) + 1
          AND cardinality(text_units) = cardinality(text_bounds)))`,
      // lz4 where the server has it, as migration 10 set for the other large values.
      `DO $$
      BEGIN
        IF current_setting('server_version_num')::integer >= 140000 THEN
          EXECUTE 'ALTER TABLE plan_version_derived ALTER COLUMN texts SET COMPRESSION lz4';
        END IF;
      EXCEPTION WHEN feature_not_supported THEN
        RAISE NOTICE 'this PostgreSQL server has no lz4: the packed texts stay compressed with pglz';
      END
      $$`,
    ],
  },
];

/** Applies the migrations the database has not had, in order, in one transaction under an advisory lock. */
export async function migrate(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('sip-fhir-adapter:schema_migrations'))`);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const known = Math.max(0, ...migrations.map((migration) => migration.version));
    const newer = [...applied].filter((version) => version > known);
    if (newer.length > 0) {
      throw new Error(`the database has schema migration ${String(Math.max(...newer))}, newer than this adapter knows (${String(known)}): upgrade the adapter`);
    }
    const done: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      done.push(migration.version);
    }
    return done;
  });
}
