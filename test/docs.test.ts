import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULES } from '../src/sip/index.js';
import { REPLACED_CONSTRAINTS } from '../src/validation/index.js';
import { renderRulesDoc, RULES_DOC } from './support/render-rules-doc.js';
import { MAPPINGS_README, readmeWithSchemaDoc } from './support/render-mapping-schema-doc.js';

describe('docs', () => {
  it('docs/rules.md lists the rules as the code has them (run npm run docs:rules)', () => {
    expect(readFileSync(RULES_DOC, 'utf8')).toBe(renderRulesDoc());
  });

  it('mappings/README.md has the mapping format reference as the schema has it (run npm run docs:mappings)', () => {
    const readme = readFileSync(MAPPINGS_README, 'utf8');
    expect(readme).toBe(readmeWithSchemaDoc(readme));
    expect(readme).toContain('### valueRule');
  });

  it('rule codes are unique, dotted and kebab-case, and every rule cites a source section', () => {
    const codes = RULES.map((rule) => rule.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const rule of RULES) {
      expect(rule.code).toMatch(/^[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*$/);
      expect(rule.source.section.length).toBeGreaterThan(2);
    }
  });

  it('the README names every base constraint the validator does not evaluate as written', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const key of Object.keys(REPLACED_CONSTRAINTS)) expect(readme, key).toContain(`**${key}**`);
  });
});
