const { jestConfig } = require('@salesforce/sfdx-lwc-jest/config');

module.exports = {
    ...jestConfig,
    // Retargeted copies of the sources (scripts/retarget.mjs) must not be
    // picked up as a second set of components.
    modulePathIgnorePatterns: ['<rootDir>/build/'],
    testPathIgnorePatterns: [...jestConfig.testPathIgnorePatterns, '<rootDir>/build/', '<rootDir>/scripts/']
};
