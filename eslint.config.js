// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      // `const { dropped, ...kept } = value` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name=/^(skip|todo|only)$/][callee.object.name=/^(it|test|describe)$/]", message: 'No skipped, focused or todo tests.' },
      ],
    },
  },
  {
    // DESIGN.md §2: each layer imports only the layers below it. The store keeps plans as the SIP model
    // has them and knows nothing of FHIR or HTTP; what it needs from a mapping (the FHIR resource ids of
    // a version) its caller hands in.
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(fhir|validation|exchange|http|cli)(/|$)',
              message: 'src/store may import only src/sip (DESIGN.md §2): let the caller compute what needs a higher layer and hand it in.',
            },
          ],
        },
      ],
    },
  },
  {
    // Mutations and generators edit plans as parsed JSON (PlanJson), the one place `any` is allowed.
    // The FHIR mutation corpus edits official examples as parsed JSON the same way.
    files: ['test/support/mutations.ts', 'test/support/arbitraries.ts', 'test/sip/properties.test.ts', 'test/validation/mutation-corpus.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/restrict-plus-operands': 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
