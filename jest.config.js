// Tests are compiled by tsc first (npm test runs the build), so jest runs plain ESM JavaScript:
// no transform, and the same module semantics as the shipped CLI.
const common = { testEnvironment: 'node', transform: {}, moduleFileExtensions: ['js'] };
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/dist/test/unit/**/*.test.js'] },
    // e2e tests boot real lab hosts; they share one bridge, so they run one file at a time (see test/e2e/README.md).
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/dist/test/e2e/**/*.test.js'] },
  ],
  testTimeout: 600000,
};
