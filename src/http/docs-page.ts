/**
 * The OpenAPI document as a page a person reads in a browser (`GET /docs`), rendered on the server:
 * every operation with its parameters, request body, responses and the scope it needs, then every
 * schema. One self-contained HTML page with its style inline and no script, so it works without
 * internet access and under helmet's Content-Security-Policy.
 */
import type { JsonObject } from './openapi.js';

const escapeHtml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const objectAt = (value: unknown, key: string): JsonObject => {
  const found = isObject(value) ? value[key] : undefined;
  return isObject(found) ? found : {};
};
const stringAt = (value: unknown, key: string): string | undefined => {
  const found = isObject(value) ? value[key] : undefined;
  return typeof found === 'string' ? found : undefined;
};
const arrayAt = (value: unknown, key: string): unknown[] => {
  const found = isObject(value) ? value[key] : undefined;
  return Array.isArray(found) ? (found as unknown[]) : [];
};

/** The first tag of an operation, which groups it on the page. */
function tagOf(operation: JsonObject): string {
  const [tag] = arrayAt(operation, 'tags');
  return typeof tag === 'string' ? tag : 'Other';
}

/** `code` spans for text written with backticks, as the document's descriptions are (Markdown, simply). */
const prose = (text: string | undefined): string => (text === undefined ? '' : escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>'));

const anchorOf = (text: string): string => text.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();

/** A schema in one line: a link to a named schema, or its type. */
function schemaLabel(schema: unknown): string {
  const reference = stringAt(schema, '$ref');
  if (reference !== undefined) {
    const name = reference.replace('#/components/schemas/', '');
    return `<a href="#schema-${anchorOf(name)}">${escapeHtml(name)}</a>`;
  }
  const enumeration = arrayAt(schema, 'enum');
  if (enumeration.length > 0) return enumeration.map((value) => `<code>${escapeHtml(JSON.stringify(value))}</code>`).join(' | ');
  // A schema without a type admits every JSON value.
  const type = stringAt(schema, 'type') ?? 'JSON value';
  const format = stringAt(schema, 'format');
  return escapeHtml(format === undefined ? type : `${type} (${format})`);
}

function parametersTable(parameters: unknown[]): string {
  if (parameters.length === 0) return '';
  const rows = parameters.map(
    (parameter) =>
      `<tr><td><code>${escapeHtml(stringAt(parameter, 'name') ?? '')}</code></td><td>${escapeHtml(stringAt(parameter, 'in') ?? '')}</td><td>${
        isObject(parameter) && parameter.required === true ? 'required' : 'optional'
      }</td><td>${schemaLabel(objectAt(parameter, 'schema'))}</td><td>${prose(stringAt(parameter, 'description'))}</td></tr>`,
  );
  return `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th></th><th>schema</th><th>what</th></tr>${rows.join('')}</table>`;
}

function contentList(content: JsonObject): string {
  return Object.entries(content)
    .map(([type, media]) => `<code>${escapeHtml(type)}</code> ${schemaLabel(objectAt(media, 'schema'))}`)
    .join('<br>');
}

function operationSection(path: string, method: string, operation: JsonObject): string {
  const scopes = arrayAt(operation, 'security').flatMap((requirement) => (isObject(requirement) ? Object.values(requirement).flatMap((value) => (Array.isArray(value) ? (value as unknown[]) : [])) : []));
  const security = arrayAt(operation, 'security').length === 0 && isObject(operation) && Array.isArray(operation.security) ? 'no token needed' : `bearer token with ${scopes.map((scope) => `<code>${escapeHtml(String(scope))}</code>`).join(', ')}`;
  const body = objectAt(operation, 'requestBody');
  const responses = Object.entries(objectAt(operation, 'responses')).map(
    ([status, response]) => `<tr><td>${escapeHtml(status)}</td><td>${prose(stringAt(response, 'description'))}</td><td>${contentList(objectAt(response, 'content'))}</td></tr>`,
  );
  const id = anchorOf(`${method} ${path}`);
  return [
    `<section class="operation" id="${id}">`,
    `<h3><span class="method ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h3>`,
    `<p class="summary">${prose(stringAt(operation, 'summary'))}</p>`,
    stringAt(operation, 'description') === undefined ? '' : `<p>${prose(stringAt(operation, 'description'))}</p>`,
    `<p class="security">${security}</p>`,
    parametersTable(arrayAt(operation, 'parameters')),
    Object.keys(body).length === 0 ? '' : `<h4>Request body</h4><p>${contentList(objectAt(body, 'content'))}</p>`,
    `<h4>Responses</h4><table><tr><th>status</th><th>what</th><th>content</th></tr>${responses.join('')}</table>`,
    '</section>',
  ].join('\n');
}

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 70rem; padding: 1rem 2rem; color: #1b1b1b; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.9em; }
pre { background: #f5f5f5; padding: 0.75rem; overflow-x: auto; max-height: 30rem; }
table { border-collapse: collapse; margin: 0.25rem 0 1rem; width: 100%; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
.operation { border-top: 1px solid #ccc; padding-top: 0.5rem; }
.method { display: inline-block; min-width: 3.5rem; padding: 0 0.4rem; border-radius: 3px; color: #fff; font-size: 0.8em; text-align: center; }
.get { background: #2f6f44; } .post { background: #2a5d9f; } .put { background: #8a5a00; } .delete { background: #a12a2a; }
.summary { font-weight: 600; } .security { color: #555; font-size: 0.9em; }
nav li { list-style: none; } nav ul { padding-left: 1rem; }
`;

/** The page for `document`, an OpenAPI 3.1 document as ./openapi.ts makes it. */
export function renderDocsPage(document: JsonObject): string {
  const info = objectAt(document, 'info');
  const title = stringAt(info, 'title') ?? 'API';
  const paths = objectAt(document, 'paths');
  const operations = Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(isObject(item) ? item : {}).flatMap(([method, operation]) => (isObject(operation) ? [{ path, method, operation, tag: tagOf(operation) }] : [])),
  );
  const tags = arrayAt(document, 'tags').map((tag) => ({ name: stringAt(tag, 'name') ?? '', description: stringAt(tag, 'description') }));
  const schemas = Object.entries(objectAt(objectAt(document, 'components'), 'schemas'));
  const security = Object.entries(objectAt(objectAt(document, 'components'), 'securitySchemes'));

  const nav = tags
    .map(
      (tag) =>
        `<li>${escapeHtml(tag.name)}<ul>${operations
          .filter((operation) => operation.tag === tag.name)
          .map((operation) => `<li><a href="#${anchorOf(`${operation.method} ${operation.path}`)}">${escapeHtml(operation.method.toUpperCase())} ${escapeHtml(operation.path)}</a></li>`)
          .join('')}</ul></li>`,
    )
    .join('');
  const sections = tags.map(
    (tag) =>
      `<h2>${escapeHtml(tag.name)}</h2><p>${prose(tag.description)}</p>${operations
        .filter((operation) => operation.tag === tag.name)
        .map((operation) => operationSection(operation.path, operation.method, operation.operation))
        .join('\n')}`,
  );
  const schemaSections = schemas.map(
    ([name, schema]) =>
      `<section id="schema-${anchorOf(name)}"><h3>${escapeHtml(name)}</h3><p>${prose(stringAt(schema, 'description'))}</p><details><summary>JSON Schema</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details></section>`,
  );
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)} — API</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(title)} <small>${escapeHtml(stringAt(info, 'version') ?? '')}</small></h1>`,
    `<p>${prose(stringAt(info, 'summary'))}</p>`,
    `<p>${prose(stringAt(info, 'description'))}</p>`,
    '<p>The machine-readable document: <a href="/openapi.json"><code>/openapi.json</code></a> (OpenAPI 3.1).</p>',
    ...security.map(([name, scheme]) => `<h2>Authentication</h2><p><code>${escapeHtml(name)}</code>: ${prose(stringAt(scheme, 'description'))}</p>`),
    `<nav><h2>Operations</h2><ul>${nav}</ul></nav>`,
    ...sections,
    '<h2>Schemas</h2>',
    ...schemaSections,
    '</body></html>',
  ].join('\n');
}
