// ESLint for src/ and test/ (npm run lint; .ci/run fails on any finding).
// typescript-eslint's recommended set plus a few type-aware rules for the mistakes that matter in
// a tool that switches production data: a promise nobody awaits (a failed lock renewal or
// journal write must not vanish), a promise where a callback is expected, `return promise`
// inside try (its finally — closing the connection — runs before the promise settles), throwing
// something other than an Error (the exit code travels on FlipError), a switch over a union that
// forgets a member.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'oclif.manifest.json']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {project: './tsconfig.lint.json', tsconfigRootDir: import.meta.dirname},
    },
    rules: {
      // `void promise` hides a rejection as well as a bare call does: both must be handled.
      '@typescript-eslint/no-floating-promises': ['error', {ignoreVoid: false}],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', {considerDefaultExhaustiveForUnions: true}],
      // tsc's noUnusedLocals/noUnusedParameters (tsconfig.lint.json) report these already.
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    // Plain JS: the bin scripts, the test runner and this file run in Node.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {globals: {process: 'readonly', console: 'readonly', URL: 'readonly', SharedArrayBuffer: 'readonly', Atomics: 'readonly', Int32Array: 'readonly'}},
  },
)
