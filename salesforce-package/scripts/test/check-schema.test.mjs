// The Metadata API schema check passes on the sources and catches each kind
// of mistake the types can see: every case copies the project, breaks one
// -meta.xml, and expects a problem that names the file and the element.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSchema } from '../check-schema.mjs';
import { fieldsOf, loadSchema, parseDeclarations } from '../lib/metadata-schema.mjs';

const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const D = 'force-app/main/default';
const schema = loadSchema();

function problemsAfter(file, from, to) {
    const dir = mkdtempSync(join(tmpdir(), 'qwoty-schema-'));
    try {
        cpSync(join(PROJECT, 'force-app'), join(dir, 'force-app'), { recursive: true });
        const path = join(dir, D, file);
        const text = readFileSync(path, 'utf8');
        assert.ok(text.includes(from), `fixture setup: ${file} should contain ${JSON.stringify(from)}`);
        writeFileSync(path, text.replace(from, to));
        return checkSchema(dir, schema);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

test('every -meta.xml of the package conforms to the Metadata API types', () => {
    assert.deepEqual(checkSchema(PROJECT, schema), []);
});

test('the declarations are read whole: types, their bases, lists and required fields', () => {
    const fields = fieldsOf(schema, 'ExternalCredential');
    assert.deepEqual(fields.get('authenticationProtocol'), {
        type: 'AuthenticationProtocol',
        list: false,
        optional: false
    });
    assert.equal(fields.get('externalCredentialParameters').list, true);
    assert.ok(fields.has('fullName'), 'fields of the Metadata base type are inherited');
    assert.ok(schema.enums.get('ExternalCredentialParamType').has('AuthParameter'));
});

test('a declaration in an unknown shape stops the parse instead of weakening the check', () => {
    assert.throws(
        () => parseDeclarations("export type A = {\n    b?: 'x' | 'y';\n};\n"),
        /line 2: unexpected field declaration/
    );
    assert.throws(() => parseDeclarations('export interface A {}\n'), /line 1: unexpected declaration/);
});

const cases = [
    {
        name: 'an element that is not a field of its type',
        file: 'cspTrustedSites/Qwoty_App.cspTrustedSite-meta.xml',
        from: '<isActive>',
        to: '<isEnabled>true</isEnabled>\n    <isActive>',
        expect: /Qwoty_App\.cspTrustedSite-meta\.xml: CspTrustedSite: <isEnabled> is not a field of CspTrustedSite/
    },
    {
        name: 'a value outside its enumeration',
        file: 'externalCredentials/Qwoty.externalCredential-meta.xml',
        from: '<parameterType>AuthParameter</parameterType>',
        to: '<parameterType>AuthenticationParameter</parameterType>',
        expect: /ExternalCredential\/externalCredentialParameters\/parameterType: "AuthenticationParameter" is not a ExternalCredentialParamType/
    },
    {
        name: 'a boolean that is not true or false',
        file: 'permissionsets/Qwoty_User.permissionset-meta.xml',
        from: '<allowRead>true</allowRead>',
        to: '<allowRead>yes</allowRead>',
        expect: /PermissionSet\/objectPermissions\/allowRead: "yes" is not a boolean/
    },
    {
        name: 'a number that is not a number',
        file: 'classes/QwotyPing.cls-meta.xml',
        from: /<apiVersion>[^<]*<\/apiVersion>/.exec(
            readFileSync(join(PROJECT, D, 'classes/QwotyPing.cls-meta.xml'), 'utf8')
        )[0],
        to: '<apiVersion>sixty-three</apiVersion>',
        expect: /ApexClass\/apiVersion: "sixty-three" is not a number/
    },
    {
        name: 'a required field left out',
        file: 'permissionsets/Qwoty_Admin.permissionset-meta.xml',
        from: '<object>UserExternalCredential</object>',
        to: '',
        expect: /Qwoty_Admin\.permissionset-meta\.xml: PermissionSet\/objectPermissions: <PermissionSetObjectPermissions> requires <object>/
    },
    {
        name: 'a single field given twice',
        file: 'namedCredentials/Qwoty_API.namedCredential-meta.xml',
        from: '<label>Qwoty API</label>',
        to: '<label>Qwoty API</label>\n    <label>Qwoty</label>',
        expect: /NamedCredential: <label> appears 2 times, NamedCredential allows one/
    },
    {
        name: 'elements inside a text field',
        file: 'externalClientApps/Qwoty.eca-meta.xml',
        from: '<label>Qwoty</label>',
        to: '<label><text>Qwoty</text></label>',
        expect: /ExternalClientApplication\/label: <text> inside a string value/
    }
];

for (const c of cases) {
    test(`catches ${c.name}`, () => {
        const problems = problemsAfter(c.file, c.from, c.to);
        assert.ok(
            problems.some((p) => c.expect.test(p)),
            `expected a problem matching ${c.expect}, got:\n${problems.join('\n') || '(none)'}`
        );
    });
}

test('catches a root element that is not a metadata type (well-formed)', () => {
    const problems = problemsAfter(
        'objects/Qwoty_Config__c/fields/Secret__c.field-meta.xml',
        /<CustomField [\s\S]*<\/CustomField>/.exec(
            readFileSync(join(PROJECT, D, 'objects/Qwoty_Config__c/fields/Secret__c.field-meta.xml'), 'utf8')
        )[0],
        '<CustomFieldX xmlns="http://soap.sforce.com/2006/04/metadata"><label>x</label></CustomFieldX>'
    );
    assert.ok(
        problems.some((p) => /Secret__c\.field-meta\.xml: <CustomFieldX> is not a Metadata API type/.test(p)),
        problems.join('\n')
    );
});
