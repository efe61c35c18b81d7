/**
 * Every resource the adapter writes carries a short Swedish narrative (`text`), not only the CarePlan:
 * receiving record systems show it for resources they do not model. Each is generated, well-formed
 * XHTML in the XHTML namespace with only basic elements, escapes people's words, says what the
 * resource records in plain Swedish, and, for a person with protected identity, names no address,
 * phone number or meeting place. The expected texts below are written by hand from the examples.
 */
import { SyntaxValidator } from 'fast-xml-validator';
import type { Bundle, FhirResource } from 'fhir/r4.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, PROTECTED_LOCATION_TEXT, bundleToPlan, planToBundle } from '../../src/fhir/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { exampleFiles, leakyProtectedPlan, readExample } from '../support/examples.js';

/** The moment every Bundle here is sent. */
const AT = new Date('2026-05-01T12:00:00+02:00');
const XHTML = '<div xmlns="http://www.w3.org/1999/xhtml">';

/** Elements FHIR R4 allows in a narrative that this adapter may use (https://hl7.org/fhir/R4/narrative.html#xhtml). */
const BASIC_ELEMENTS = new Set(['div', 'p', 'ul', 'li', 'h2', 'h3', 'h4', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'b', 'i', 'br']);

function bundleOf(plan: SipPlan): Bundle {
  return planToBundle(plan, DEFAULT_MAPPING_OPTIONS, AT);
}

function resources(bundle: Bundle): FhirResource[] {
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource === undefined ? [] : [entry.resource]));
}

function divs(bundle: Bundle): string[] {
  return resources(bundle).map((resource) => ('text' in resource ? (resource.text?.div ?? '') : ''));
}

/** The narratives of one resource type, in Bundle order. */
function narrativesOf(bundle: Bundle, resourceType: FhirResource['resourceType']): string[] {
  return resources(bundle)
    .filter((resource) => resource.resourceType === resourceType)
    .map((resource) => ('text' in resource ? (resource.text?.div ?? '') : ''));
}

function only(bundle: Bundle, resourceType: FhirResource['resourceType']): string {
  const found = narrativesOf(bundle, resourceType);
  expect(found).toHaveLength(1);
  return found[0] ?? '';
}

function div(...blocks: string[]): string {
  return `${XHTML}${blocks.join('')}</div>`;
}

const adult = readExample('adult-psychiatry-addiction.json');

describe.each(exampleFiles)('the narratives of %s', (file) => {
  const bundle = bundleOf(readExample(file));

  it('are on every resource, generated, in the XHTML namespace, well-formed and made of basic elements only', () => {
    for (const resource of resources(bundle)) {
      const text = 'text' in resource ? resource.text : undefined;
      expect(text?.status, resource.resourceType).toBe('generated');
      const xhtml = text?.div ?? '';
      expect(xhtml.startsWith(XHTML), resource.resourceType).toBe(true);
      expect(xhtml.endsWith('</div>')).toBe(true);
      expect(() => SyntaxValidator.validate(xhtml), xhtml).not.toThrow();
      const elements = [...xhtml.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((match) => match[1] ?? '');
      expect(elements.filter((element) => !BASIC_ELEMENTS.has(element)), resource.resourceType).toEqual([]);
      expect(xhtml).not.toMatch(/\s(style|class|on[a-z]+)=/);
    }
  });

  it('are read back without being reported as unmapped', () => {
    const result = bundleToPlan(JSON.parse(JSON.stringify(bundle)) as unknown);
    expect(result.ok).toBe(true);
    expect(result.outcome.issue.filter((issue) => (issue.expression ?? []).some((expression) => expression.endsWith('.text')))).toEqual([]);
    expect(JSON.stringify(result.outcome)).not.toContain('.text has no place');
  });
});

describe('each resource type is narrated in Swedish (adult-psychiatry-addiction.json, sent 2026-05-01)', () => {
  const bundle = bundleOf(adult);

  it('Patient: the person, and nothing of the plan (a shared record another system may own)', () => {
    expect(only(bundle, 'Patient')).toBe(div('<p>Jonas Eriksson.</p>'));
  });

  it('Organization: principals, units and other actors, each with its role', () => {
    expect(narrativesOf(bundle, 'Organization')).toEqual([
      div('<p>Region Dalarna – huvudman för hälso- och sjukvård (region).</p>'),
      div('<p>Psykiatrisk öppenvård Falun – verksamhet hos huvudmannen Region Dalarna.</p>'),
      div('<p>Britsarvets vårdcentral – verksamhet hos huvudmannen Region Dalarna.</p>'),
      div('<p>Falu kommun – huvudman för socialtjänst (kommun).</p>'),
      div('<p>Socialtjänstens beroendeenhet – verksamhet hos huvudmannen Falu kommun.</p>'),
      div('<p>Boendestöd – verksamhet hos huvudmannen Falu kommun.</p>'),
      div('<p>Försäkringskassan – berörd aktör: Försäkringskassan.</p>'),
    ]);
  });

  it('Practitioner and PractitionerRole: the professional, the title, whom they act for, and the coordinator', () => {
    // The Practitioner is shared: its name only; the title in this plan is the PractitionerRole's.
    expect(narrativesOf(bundle, 'Practitioner')[0]).toBe(div('<p>Anna Lind.</p>'));
    expect(narrativesOf(bundle, 'PractitionerRole').slice(0, 2)).toEqual([
      div('<p>Anna Lind, kurator – företräder Psykiatrisk öppenvård Falun i planen. Huvudansvarig/samordnare för planen.</p>'),
      div('<p>Erik Berg, överläkare – företräder Psykiatrisk öppenvård Falun i planen.</p>'),
    ]);
  });

  it('RelatedPerson: a relative, a custodial guardian and a god man', () => {
    expect(only(bundle, 'RelatedPerson')).toBe(div('<p>Maria Eriksson – närstående (syster) till Jonas Eriksson.</p>'));
    expect(narrativesOf(bundleOf(readExample('child-two-guardians-school.json')), 'RelatedPerson')[0]).toBe(
      div('<p>Anna Hedlund – vårdnadshavare för Elin Hedlund.</p>'),
    );
    expect(narrativesOf(bundleOf(readExample('representative-god-man.json')), 'RelatedPerson')[0]).toBe(
      div('<p>Birgitta Holmqvist – god man för Viktor Nyberg.</p>'),
    );
  });

  it('CareTeam: every member with their role, and who holds overall responsibility', () => {
    expect(only(bundle, 'CareTeam')).toBe(
      div(
        '<p>Deltagare i den samordnade individuella planen för Jonas Eriksson.</p><ul>',
        '<li>Jonas Eriksson – den enskilde</li>',
        '<li>Region Dalarna – huvudman</li>',
        '<li>Falu kommun – huvudman</li>',
        '<li>Försäkringskassan – berörd aktör</li>',
        '<li>Anna Lind, kurator, Psykiatrisk öppenvård Falun – yrkesperson, huvudansvarig/samordnare</li>',
        '<li>Erik Berg, överläkare, Psykiatrisk öppenvård Falun – yrkesperson</li>',
        '<li>Sara Holm, socialsekreterare, Socialtjänstens beroendeenhet – yrkesperson</li>',
        '<li>Lars Nyman, enhetschef, Socialtjänstens beroendeenhet – yrkesperson</li>',
        '<li>Karin Åhl, handläggare, Försäkringskassan – yrkesperson</li>',
        '<li>Maria Eriksson – närstående (syster)</li>',
        '</ul><p>Övergripande ansvar: Region Dalarna.</p>',
      ),
    );
  });

  it('Goal: the goal in the person\'s words, its status, who said it and its target date', () => {
    expect(narrativesOf(bundle, 'Goal')[2]).toBe(
      div('<p>Mål: Jag vill börja arbeta igen, först på deltid.</p>', '<p>Målet är aktivt. Uttryckt av Jonas Eriksson. Måldatum: 31 december 2026.</p>'),
    );
  });

  it('Goal: an achieved goal, and one replaced at a follow-up by a revised goal', () => {
    const plan: SipPlan = {
      ...adult,
      goals: [
        { ...adult.goals[0], id: 'goal-1', description: 'Jag vill sluta dricka och må bättre.', expressedBy: 'individual', status: 'achieved', informationClasses: [] },
        { id: 'goal-2', description: 'Jag vill arbeta heltid.', expressedBy: 'individual', status: 'notAchieved', informationClasses: [] },
        { id: 'goal-4', description: 'Jag vill arbeta halvtid.', expressedBy: 'prof-anna-lind', status: 'active', replaces: 'goal-2', informationClasses: [] },
      ],
      interventions: adult.interventions.map((intervention) => ({ ...intervention, goals: [] })),
    };
    expect(narrativesOf(bundleOf(plan), 'Goal')).toEqual([
      div('<p>Mål: Jag vill sluta dricka och må bättre.</p>', '<p>Målet är uppnått. Uttryckt av Jonas Eriksson.</p>'),
      div('<p>Mål: Jag vill arbeta heltid.</p>', '<p>Målet uppnåddes inte. Uttryckt av Jonas Eriksson.</p>', '<p>Ersatt av målet: Jag vill arbeta halvtid.</p>'),
      div('<p>Mål: Jag vill arbeta halvtid.</p>', '<p>Målet är aktivt. Uttryckt av Anna Lind.</p>'),
    ]);
  });

  it('Consent: who consented, when, for which period, to whom, what and whom is excluded, and whether it is in force when sent', () => {
    expect(only(bundle, 'Consent')).toBe(
      div(
        '<p>Samtycke till den samordnade individuella planen, lämnat skriftligt av Jonas Eriksson den 12 februari 2026.</p>',
        '<p>Gäller från 12 februari 2026 till och med 11 februari 2027.</p>',
        '<p>Information får lämnas till:</p><ul><li>Region Dalarna</li><li>Falu kommun</li><li>Försäkringskassan</li></ul>',
        '<p>Undantagen information:</p><ul><li>Familjeförhållanden – Uppgifter om tidigare relation och vårdnadstvist.</li></ul>',
        '<p>Information får inte lämnas till:</p><ul><li>Britsarvets vårdcentral</li></ul>',
        '<p>Dokumenterat i Journalsystem Region Dalarna.</p>',
        '<p>Samtycket gäller när planen skickas.</p>',
      ),
    );
  });

  it('Consent: a withdrawn consent says when, by whom and why, and that it is no longer in force', () => {
    const consent = only(bundleOf(readExample('closed-consent-withdrawn.json')), 'Consent');
    expect(consent).toContain('<p>Återkallat den 24 februari 2026 kl. 14.05 av Emil Persson. Registrerat av Nora Engström. Emil ringde och sa att han inte längre vill ha en samordnad plan');
    expect(consent).toContain('<p>Samtycket är återkallat och gäller inte längre.</p></div>');
  });

  it('Consent: guardians of a child, and the child\'s own view', () => {
    const consent = only(bundleOf(readExample('child-two-guardians-school.json')), 'Consent');
    expect(consent).toContain('<p>Samtycke till den samordnade individuella planen, lämnat skriftligt av Anna Hedlund, Fredrik Hedlund och Elin Hedlund den 26 januari 2026.</p>');
    expect(consent).toContain('<p>Barnets egen syn: Elin vill');
  });

  it('Location: the meeting place and day', () => {
    expect(only(bundle, 'Location')).toBe(div('<p>Plats för första SIP-mötet den 5 mars 2026: Psykiatrisk öppenvård Falun, samtalsrum 3.</p>'));
  });

  it('Appointment: the summons in plain words, with every invitee\'s answer and the meeting roles', () => {
    expect(only(bundle, 'Appointment')).toBe(
      div(
        '<h3>Kallelse till första SIP-mötet</h3>',
        '<p>Gäller Jonas Eriksson. Mötet är genomfört.</p>',
        '<p>När: 5 mars 2026 kl. 13.00–14.30.</p>',
        '<p>Var: Psykiatrisk öppenvård Falun, samtalsrum 3.</p>',
        '<p>Kallas av Anna Lind den 16 februari 2026.</p>',
        '<p>Kontaktperson: Anna Lind, 023-49 01 23, anna.lind@example.se.</p>',
        '<p>Dagordning: Presentation. Jonas berättar om sin situation och sina mål. Insatser från psykiatrin, beroendeenheten och boendestödet. ',
        'Försäkringskassans handläggning av sjukpenning. Vem ansvarar för vad och när följer vi upp.</p>',
        '<p>Kallade:</p><ul>',
        '<li>Jonas Eriksson – kommer</li>',
        '<li>Maria Eriksson (behöver inte delta) – kommer</li>',
        '<li>Anna Lind – kommer</li>',
        '<li>Erik Berg – kommer inte; ersätts av Anna Lind</li>',
        '<li>Sara Holm – kommer</li>',
        '<li>Karin Åhl (behöver inte delta) – kanske</li>',
        '</ul>',
        '<p>Mötesledare: Anna Lind. Sekreterare: Sara Holm. Kontaktperson efter mötet: Anna Lind.</p>',
      ),
    );
  });

  it('Appointment: a digital meeting with an interpreter and other needs', () => {
    const appointment = only(bundleOf(readExample('awaiting-decision.json')), 'Appointment');
    expect(appointment).toContain('<p>Var: digitalt möte (https://mote.example.se/sip/7Q4K-2M9P).</p>');
    expect(appointment).toContain('<li>Peter Moberg (behöver inte delta) – har inte svarat</li>');
    expect(appointment).toContain('<p>Tolk behövs: somaliska.</p><p>Andra behov: Digitalt möte: sonen hjälper Faadumo att ansluta från hemmet.');
  });

  it('Appointment: a meeting not yet summoned says so', () => {
    const plan: SipPlan = { ...adult, meetings: [...adult.meetings, { id: 'meeting-2', kind: 'followUp', status: 'planned' }] };
    expect(narrativesOf(bundleOf(plan), 'Appointment')[1]).toBe(div('<h3>Uppföljningsmöte</h3>', '<p>Gäller Jonas Eriksson. Mötet är planerat. Ingen kallelse är skickad ännu.</p>'));
  });

  it('QuestionnaireResponse: the person\'s own account under the request form\'s Swedish questions', () => {
    const account = only(bundle, 'QuestionnaireResponse');
    expect(account.startsWith(`${XHTML}<h3>Information och önskemål inför SIP</h3><p>Egen beskrivning av Jonas Eriksson, lämnad den 12 februari 2026.</p>`)).toBe(true);
    expect(account).toContain('<h4>Vad är min upplevelse?</h4><p>Jag måste berätta samma sak för alla och vet inte vem som gör vad.');
    expect(account).toContain('<h4>Önskemål om vem jag vill ha som samordnare</h4><p>Anna på psykiatrin</p>');
    expect(account.endsWith('<h4>Jag vill delta i mötet</h4><p>Ja</p></div>')).toBe(true);
  });

  it('ServiceRequest: the decision in plain words — what, granted under which provision, when and by whom, why, how much, how long, who provides it', () => {
    expect(only(bundleOf(adult), 'ServiceRequest')).toBe(
      div(
        '<p>Beslut om boendestöd, för insatsen: Boendestöd två gånger i veckan: ekonomi, post och hyra.</p>',
        '<p>Beviljat (bifall) enligt 11 kap. 1 § socialtjänstlagen (2025:400). Beslutat den 11 mars 2026 kl. 13.45 av Lars Nyman.</p>',
        '<p>Motivering: Jonas behöver stöd med ekonomi och hushåll för att kunna behålla sin lägenhet.</p>',
        '<p>Omfattning: två besök i veckan, 3 timmar per vecka.</p>',
        '<p>Gäller från 16 mars 2026 till 30 september 2026.</p>',
        '<p>Utförare: Boendestöd.</p>',
      ),
    );
  });

  it('Task: each principal\'s approval of the current version and its status', () => {
    expect(narrativesOf(bundle, 'Task')).toEqual([
      div(
        '<p>Huvudmannen Region Dalarna ska godkänna sin del av den samordnade individuella planen, version 3.</p>',
        '<p>Status: godkänd av Erik Berg den 9 mars 2026 (version 2; delen är oförändrad sedan dess).</p>',
      ),
      div('<p>Huvudmannen Falu kommun ska godkänna sin del av den samordnade individuella planen, version 3.</p>', '<p>Status: godkänd av Lars Nyman den 12 mars 2026.</p>'),
    ]);
    const unapproved = narrativesOf(bundleOf({ ...adult, approvals: [] }), 'Task')[0];
    expect(unapproved).toContain('<p>Status: inte godkänd.</p>');
  });

  it('Provenance: who approved which version for which principal, and a withdrawal', () => {
    expect(narrativesOf(bundle, 'Provenance')[1]).toBe(
      div('<p>Lars Nyman godkände version 3 av den samordnade individuella planen för Falu kommun den 12 mars 2026 kl. 15.20.</p>'),
    );
    expect(narrativesOf(bundleOf(readExample('follow-up-revised-goals.json')), 'Provenance')[0]).toBe(
      div(
        '<p>Olof Hedström godkände version 2 av den samordnade individuella planen för Region Västerbotten den 17 september 2025 kl. 15.00.</p>',
        '<p>Godkännandet återkallades den 10 februari 2026 kl. 16.00: den godkända delen har ändrats.</p>',
      ),
    );
  });

  describe('with an organisation invited to the meeting and a deviation reported', () => {
    const [meeting] = adult.meetings;
    if (meeting?.summons === undefined) throw new Error('the example has a summoned meeting');
    const plan: SipPlan = {
      ...adult,
      meetings: [{ ...meeting, summons: { ...meeting.summons, invitees: [...meeting.summons.invitees, { party: 'unit-boendestod', required: true, response: 'noResponse' }] } }],
      deviations: [
        {
          id: 'deviation-1',
          reportedAt: '2026-03-20T09:15:00+01:00',
          reportedBy: 'prof-anna-lind',
          concerns: 'unit-boendestod',
          category: 'interventionNotDelivered',
          description: 'Boendestödet kom inte igång den 16 mars som planerat.',
          status: 'underInvestigation',
          interimResponsibility: 'Socialsekreteraren tar kontakt med Jonas varje vecka tills boendestödet är igång.',
          interimResponsiblePrincipal: 'falu-kommun',
          informationClasses: [],
        },
      ],
    };
    const withDeviation = bundleOf(plan);

    it('HealthcareService: the organisation as invited to meetings', () => {
      expect(only(withDeviation, 'HealthcareService')).toBe(div('<p>Boendestöd – kallas som organisation till möten om den samordnade individuella planen.</p>'));
      expect(only(withDeviation, 'Appointment')).toContain('<li>Boendestöd – har inte svarat</li>');
    });

    it('DetectedIssue: the deviation, whom it concerns, who reported it, its status and the interim responsibility', () => {
      expect(only(withDeviation, 'DetectedIssue')).toBe(
        div(
          '<p>Avvikelse: Överenskommen insats gavs inte.</p>',
          '<p>Boendestödet kom inte igång den 16 mars som planerat.</p>',
          '<p>Gäller Boendestöd. Rapporterad den 20 mars 2026 av Anna Lind. Status: under utredning.</p>',
          '<p>Tillfällig ansvarsfördelning: Socialsekreteraren tar kontakt med Jonas varje vecka tills boendestödet är igång. Tillfälligt ansvarig huvudman: Falu kommun.</p>',
        ),
      );
    });
  });
});

describe('narratives escape people\'s words', () => {
  const script = '<script>alert("x")</script>';
  const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;';
  const [meeting] = adult.meetings;
  if (meeting?.summons === undefined) throw new Error('the example has a summoned meeting');
  const [professional, ...professionals] = adult.professionals;
  const [consent] = adult.consents;
  if (professional === undefined || consent === undefined) throw new Error('the example has professionals and a consent');
  const plan: SipPlan = {
    ...adult,
    individual: { ...adult.individual, name: { given: `Jonas ${script}`, family: "O'Neil & Eriksson" } },
    professionals: [{ ...professional, title: `kurator ${script}` }, ...professionals],
    consents: [{ ...consent, excludedInformation: [{ class: 'other', description: `Allt om ${script}` }] }],
    meetings: [{ ...meeting, summons: { ...meeting.summons, location: `Rum ${script}`, agenda: `Dagordning ${script}` } }],
    ownAccount: { ...adult.ownAccount, experience: `Jag ${script}` },
  };
  const bundle = bundleOf(plan);

  it('keeps every narrative well-formed, with no element but the basic ones', () => {
    for (const xhtml of divs(bundle)) {
      expect(() => SyntaxValidator.validate(xhtml), xhtml).not.toThrow();
      expect(xhtml).not.toContain('<script');
    }
  });

  it('writes the markup as text, in the person\'s name and in the words of the plan', () => {
    expect(only(bundle, 'Patient')).toBe(div(`<p>Jonas ${escaped} O&#39;Neil &amp; Eriksson.</p>`));
    expect(narrativesOf(bundle, 'PractitionerRole')[0]).toContain(`Anna Lind, kurator ${escaped} – företräder`);
    expect(only(bundle, 'Consent')).toContain(`<li>Annan information – Allt om ${escaped}</li>`);
    expect(only(bundle, 'Location')).toContain(`: Rum ${escaped}.</p>`);
    expect(only(bundle, 'Appointment')).toContain(`<p>Dagordning: Dagordning ${escaped}</p>`);
    expect(only(bundle, 'QuestionnaireResponse')).toContain(`<h4>Vad är min upplevelse?</h4><p>Jag ${escaped}</p>`);
  });
});

describe('protected identity (skyddade personuppgifter) in the narratives', () => {
  const base = readExample('protected-identity.json');
  const leaky: SipPlan = leakyProtectedPlan();
  /** Every phone number and address line anywhere in the plan: the person's, a relative's, the convener's, an office's. */
  const secrets = [
    'Hemliga gatan',
    '413 01',
    '070-111 22 33',
    '070-444 55 66',
    'linnea.hemlig@example.se',
    'Hemma hos',
    // The convener's and the offices' numbers in the example (031-365 41 12, 031-342 10 00 …).
    '031-',
  ];

  it('no narrative holds an address, a phone number or the meeting place', () => {
    const narratives = divs(bundleOf(leaky)).join('\n');
    for (const secret of secrets) expect(narratives, secret).not.toContain(secret);
    expect(narratives).toContain('Linnea Karlsson');
  });

  it('nor the meeting place of the example as written', () => {
    expect(divs(bundleOf(base)).join('\n')).not.toContain('mötesrum Lyktan');
  });

  it('the meeting place is the neutral text, and the Patient narrative says why', () => {
    const bundle = bundleOf(leaky);
    expect(only(bundle, 'Location')).toBe(div(`<p>Plats för första SIP-mötet den 23 april 2026: ${PROTECTED_LOCATION_TEXT}.</p>`));
    expect(only(bundle, 'Appointment')).toContain(`<p>Var: ${PROTECTED_LOCATION_TEXT}.</p>`);
    expect(only(bundle, 'Appointment')).toContain('<p>Kontaktperson: Kristina Wahl.</p>');
    expect(only(bundle, 'Patient')).toBe(
      div(
        '<p>Linnea Karlsson.</p>',
        '<p>Skyddade personuppgifter: adress, telefon och var personen bor eller vistas lämnas inte ut.</p>',
      ),
    );
  });

  it('for a person without protected identity, the place and the convener\'s phone are told (the test above can fail)', () => {
    const narratives = divs(bundleOf({ ...leaky, individual: { ...leaky.individual, protectedIdentity: 'none' } })).join('\n');
    expect(narratives).toContain('Hemma hos Linnea, Hemliga gatan 7');
    expect(narratives).toContain('<p>Kontaktperson: Kristina Wahl, 031-365 41 12, kristina.wahl@example.se.</p>');
  });
});
