// ESLint for the Lightning web components: Salesforce's recommended LWC
// config and the Lightning Web Security rules (LWS is what runs the card in
// subscribers' orgs). `npm run lint:lwc` fails on any error or warning.
const lwcConfig = require('@salesforce/eslint-config-lwc');
const lockerPlugin = require('@locker/eslint-plugin-locker');
// The LWS rule set in Salesforce's recommended form: the "base" rules
// (blocked APIs) as errors, the "recommended" ones (distorted APIs) as warnings.
const lockerRecommended = require('@locker/eslint-config-locker/recommended');
const lockerBase = require('@locker/eslint-config-locker/base');

const LWC_FILES = ['force-app/**/lwc/**/*.js'];

module.exports = [
    { ignores: ['build/**', 'coverage/**', 'node_modules/**'] },
    ...lwcConfig.configs.recommended.map((config) => ({ ...config, files: config.files || LWC_FILES })),
    {
        files: LWC_FILES,
        plugins: { '@locker/locker': lockerPlugin },
        rules: { ...lockerBase.rules, ...lockerRecommended.rules }
    },
    {
        // Jest tests run in jsdom, not under LWS; they may reach into the DOM freely.
        files: ['force-app/**/lwc/**/__tests__/**/*.js'],
        rules: Object.fromEntries(
            Object.keys({ ...lockerBase.rules, ...lockerRecommended.rules }).map((rule) => [rule, 'off'])
        )
    }
];
