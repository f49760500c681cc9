// What the metadata checker knows about each metadata type of the package:
// the file suffix, the root element and the fields the type requires.
export const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

export const TYPES = [
    { suffix: '.cls-meta.xml', root: 'ApexClass', required: ['apiVersion', 'status'] },
    {
        suffix: '.js-meta.xml',
        root: 'LightningComponentBundle',
        required: ['apiVersion', 'isExposed', 'masterLabel', 'targets']
    },
    { suffix: '.object-meta.xml', root: 'CustomObject', required: ['label'] },
    { suffix: '.field-meta.xml', root: 'CustomField', required: ['fullName', 'label', 'type'] },
    {
        suffix: '.namedCredential-meta.xml',
        root: 'NamedCredential',
        required: ['label', 'namedCredentialType', 'namedCredentialParameters']
    },
    {
        suffix: '.externalCredential-meta.xml',
        root: 'ExternalCredential',
        required: ['label', 'authenticationProtocol', 'externalCredentialParameters']
    },
    { suffix: '.permissionset-meta.xml', root: 'PermissionSet', required: ['label'] },
    {
        suffix: '.cspTrustedSite-meta.xml',
        root: 'CspTrustedSite',
        required: ['endpointUrl', 'isActive', 'context']
    },
    {
        suffix: '.eca-meta.xml',
        root: 'ExternalClientApplication',
        required: ['label', 'contactEmail', 'distributionState']
    },
    {
        suffix: '.ecaOauth-meta.xml',
        root: 'ExtlClntAppOauthSettings',
        required: ['label', 'externalClientApplication', 'commaSeparatedOauthScopes']
    }
];

/** Suffixes that must never be in the package directory. */
export const FORBIDDEN = [
    {
        suffix: '.ecaGlblOauth-meta.xml',
        why: 'global OAuth settings hold the consumer secret and cannot be packaged: keep them in the Dev Hub only'
    }
];
