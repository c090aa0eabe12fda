// Tests are compiled by tsc first (npm test runs the build), so jest runs plain ESM JavaScript:
// no transform, and the same module semantics as the shipped CLI.
const common = { testEnvironment: 'node', transform: {}, moduleFileExtensions: ['js'] };
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/dist/test/unit/**/*.test.js'] },
    // e2e tests boot real lab hosts (each file its own fleet and bridge).
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/dist/test/e2e/**/*.test.js'] },
  ],
  // One test file at a time: e2e files boot lab fleets, and this is a 2-core machine.
  maxWorkers: 1,
  testTimeout: 600000,
};
