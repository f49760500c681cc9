// The metadata checker passes on the real sources and catches each kind of
// breakage: every case copies the project to a temporary folder, breaks one
// thing, and expects a problem that names it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkProject } from '../check-metadata.mjs';

const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const D = 'force-app/main/default';

function copyProject() {
    const dir = mkdtempSync(join(tmpdir(), 'qwoty-check-'));
    cpSync(join(PROJECT, 'sfdx-project.json'), join(dir, 'sfdx-project.json'));
    cpSync(join(PROJECT, 'force-app'), join(dir, 'force-app'), { recursive: true });
    return dir;
}

function edit(dir, file, from, to) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    assert.ok(text.includes(from), `fixture setup: ${file} should contain ${JSON.stringify(from)}`);
    writeFileSync(path, text.replace(from, to));
}

function problemsAfter(breakIt) {
    const dir = copyProject();
    try {
        breakIt(dir);
        return checkProject(dir);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

test('the package sources pass', () => {
    assert.deepEqual(checkProject(PROJECT), []);
});

test('a retargeted URL is checked when asked for', () => {
    const problems = checkProject(PROJECT, { appUrl: 'https://quotes.example.com' });
    assert.ok(
        problems.some((p) => p.includes('expected https://quotes.example.com')),
        problems.join('\n')
    );
});

test('a retargeted build must carry the OAuth link it was given', () => {
    const problems = checkProject(PROJECT, { oauthLink: '00D5g000004XyZaEAK:Qwoty_consumer' });
    assert.ok(
        problems.some((p) =>
            /Qwoty_oauth\.ecaOauth-meta\.xml: oauthLink is undefined, expected 00D5g000004XyZaEAK/.test(p)
        ),
        problems.join('\n')
    );
});

const cases = [
    {
        name: 'malformed XML',
        expect: /Qwoty_User\.permissionset-meta\.xml: not well-formed XML/,
        breakIt: (d) => edit(d, `${D}/permissionsets/Qwoty_User.permissionset-meta.xml`, '</label>', '</labl>')
    },
    {
        name: 'missing XML declaration',
        expect: /Qwoty_App\.cspTrustedSite-meta\.xml: must start with <\?xml/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/cspTrustedSites/Qwoty_App.cspTrustedSite-meta.xml`,
                '<?xml version="1.0" encoding="UTF-8"?>\n',
                ''
            )
    },
    {
        name: 'wrong root element',
        expect: /root element must be <ExternalCredential>/,
        breakIt: (d) =>
            writeFileSync(
                join(d, `${D}/externalCredentials/Qwoty.externalCredential-meta.xml`),
                '<?xml version="1.0" encoding="UTF-8"?>\n<NamedCredential xmlns="http://soap.sforce.com/2006/04/metadata"><label>x</label></NamedCredential>\n'
            )
    },
    {
        name: 'missing required field',
        expect: /Qwoty\.eca-meta\.xml: <ExternalClientApplication> requires <contactEmail>/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/externalClientApps/Qwoty.eca-meta.xml`,
                '<contactEmail>support@qwoty.example</contactEmail>',
                ''
            )
    },
    {
        name: 'an API version that differs from sfdx-project.json',
        expect: /QwotyPing\.cls-meta\.xml: apiVersion 62\.0 differs from sourceApiVersion/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/classes/QwotyPing.cls-meta.xml`,
                /<apiVersion>[^<]*<\/apiVersion>/.exec(
                    readFileSync(join(PROJECT, `${D}/classes/QwotyPing.cls-meta.xml`), 'utf8')
                )[0],
                '<apiVersion>62.0</apiVersion>'
            )
    },
    {
        name: 'an old sourceApiVersion',
        expect: /sourceApiVersion must be "62\.0" or later/,
        breakIt: (d) => {
            const file = join(d, 'sfdx-project.json');
            const project = JSON.parse(readFileSync(file, 'utf8'));
            project.sourceApiVersion = '58.0';
            writeFileSync(file, JSON.stringify(project));
        }
    },
    {
        name: 'the wrong namespace',
        expect: /namespace must be "Qwoty"/,
        breakIt: (d) => edit(d, 'sfdx-project.json', '"namespace": "Qwoty"', '"namespace": "Qwotie"')
    },
    {
        name: 'a class without its -meta.xml',
        expect: /QwotyPing\.cls: has no \.cls-meta\.xml/,
        breakIt: (d) => unlinkSync(join(d, `${D}/classes/QwotyPing.cls-meta.xml`))
    },
    {
        name: 'a callout to a named credential that does not exist',
        expect: /callout:Qwoty__Qwoty_APl names a named credential that does not exist/,
        breakIt: (d) =>
            edit(d, `${D}/classes/QwotyCallout.cls`, "'callout:Qwoty__Qwoty_API'", "'callout:Qwoty__Qwoty_APl'")
    },
    {
        name: 'a callout without the namespace prefix',
        expect: /callout:Qwoty_API must carry the namespace prefix Qwoty__/,
        breakIt: (d) => edit(d, `${D}/classes/QwotyCallout.cls`, "'callout:Qwoty__Qwoty_API'", "'callout:Qwoty_API'")
    },
    {
        name: 'Apex reading a custom setting that does not exist',
        expect: /refers to Qwoty_Settings__c/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/classes/QwotyCallout.cls`,
                'Qwoty_Config__c config = Qwoty_Config__c.getOrgDefaults();',
                'Qwoty_Settings__c config = Qwoty_Settings__c.getOrgDefaults();'
            )
    },
    {
        name: 'Apex reading a field that does not exist',
        expect: /refers to Shared_Secret__c/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/classes/QwotyCallout.cls`,
                'String.isBlank(config.Secret__c)',
                'String.isBlank(config.Shared_Secret__c)'
            )
    },
    {
        name: 'a public custom setting',
        expect: /must have visibility Protected/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/objects/Qwoty_Config__c/Qwoty_Config__c.object-meta.xml`,
                '<visibility>Protected</visibility>',
                '<visibility>Public</visibility>'
            )
    },
    {
        name: 'a field whose fullName does not match its file',
        expect: /fullName Secret2__c does not match the file name Secret__c/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/objects/Qwoty_Config__c/fields/Secret__c.field-meta.xml`,
                '<fullName>Secret__c</fullName>',
                '<fullName>Secret2__c</fullName>'
            )
    },
    {
        name: 'a CSP site that does not match the named credential',
        expect: /Qwoty_App\.cspTrustedSite-meta\.xml: endpointUrl https:\/\/other\.example differs from the Qwoty_API URL/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/cspTrustedSites/Qwoty_App.cspTrustedSite-meta.xml`,
                'https://app.qwoty.example',
                'https://other.example'
            )
    },
    {
        name: 'an inactive CSP site',
        expect: /Qwoty_App\.cspTrustedSite-meta\.xml: must be active/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/cspTrustedSites/Qwoty_App.cspTrustedSite-meta.xml`,
                '<isActive>true</isActive>',
                '<isActive>false</isActive>'
            )
    },
    {
        name: 'a CSP site for the iframe without frame-src',
        expect: /must apply to frame-src/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/cspTrustedSites/Qwoty_App.cspTrustedSite-meta.xml`,
                '<isApplicableToFrameSrc>true',
                '<isApplicableToFrameSrc>false'
            )
    },
    {
        name: 'a named credential URL with a path',
        expect: /Url must be an https origin without path/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/namedCredentials/Qwoty_API.namedCredential-meta.xml`,
                '<parameterValue>https://app.qwoty.example<',
                '<parameterValue>https://app.qwoty.example/api<'
            )
    },
    {
        name: 'a named credential pointing at a missing external credential',
        expect: /must reference an existing external credential/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/namedCredentials/Qwoty_API.namedCredential-meta.xml`,
                '<externalCredential>Qwoty</externalCredential>',
                '<externalCredential>Qwoty_Old</externalCredential>'
            )
    },
    {
        name: 'a permission set granting a class that does not exist',
        expect: /grants class QwotyGone, which does not exist/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/permissionsets/Qwoty_Admin.permissionset-meta.xml`,
                '<apexClass>QwotyPing</apexClass>',
                '<apexClass>QwotyGone</apexClass>'
            )
    },
    {
        name: 'a permission set granting a test class',
        expect: /grants test class QwotyPingTest/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/permissionsets/Qwoty_Admin.permissionset-meta.xml`,
                '<apexClass>QwotyPing</apexClass>',
                '<apexClass>QwotyPingTest</apexClass>'
            )
    },
    {
        name: 'the LWC controller not granted',
        expect: /QwotyCardViewController\.cls: is called by users \(LWC or REST\) but no permission set grants it/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/permissionsets/Qwoty_User.permissionset-meta.xml`,
                '<apexClass>QwotyCardViewController</apexClass>\n        <enabled>true</enabled>',
                '<apexClass>QwotyCardViewController</apexClass>\n        <enabled>false</enabled>'
            )
    },
    {
        name: 'the config REST resource not granted',
        expect: /QwotyConfigResource\.cls: is called by users \(LWC or REST\) but no permission set grants it/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/permissionsets/Qwoty_Admin.permissionset-meta.xml`,
                '<apexClass>QwotyConfigResource</apexClass>\n        <enabled>true</enabled>',
                '<apexClass>QwotyConfigResource</apexClass>\n        <enabled>false</enabled>'
            )
    },
    {
        name: 'two REST resources on the same urlMapping',
        expect: /QwotyPing\.cls: urlMapping \/qwoty\/config is also used by QwotyConfigResource/,
        breakIt: (d) => edit(d, `${D}/classes/QwotyPing.cls`, "urlMapping='/qwoty/ping'", "urlMapping='/qwoty/config'")
    },
    {
        name: 'a REST resource without urlMapping',
        expect: /QwotyConfigResource\.cls: @RestResource needs urlMapping/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/classes/QwotyConfigResource.cls`,
                "@RestResource(urlMapping='/qwoty/config')",
                '@RestResource'
            )
    },
    {
        name: 'a permission set description over 255 characters',
        expect: /Qwoty_Admin\.permissionset-meta\.xml: description is \d+ characters, Salesforce allows 255/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/permissionsets/Qwoty_Admin.permissionset-meta.xml`,
                '</description>',
                ' Also'.repeat(10) + '</description>'
            )
    },
    {
        name: 'a principal access that does not match the external credential',
        expect: /grants principal Qwoty-Principal, which does not exist/,
        breakIt: (d) =>
            edit(d, `${D}/permissionsets/Qwoty_User.permissionset-meta.xml`, 'Qwoty-Qwoty_Principal', 'Qwoty-Principal')
    },
    {
        name: 'a Custom external credential whose principal has no authentication parameter',
        expect: /principal Qwoty_Principal of a Custom external credential needs an AuthParameter with a value/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/externalCredentials/Qwoty.externalCredential-meta.xml`,
                '<parameterValue>v1</parameterValue>',
                ''
            )
    },
    {
        name: 'a permission set granting the principal without User External Credential access',
        expect: /Qwoty_User\.permissionset-meta\.xml: grants an external credential principal but not Read on UserExternalCredential/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/permissionsets/Qwoty_User.permissionset-meta.xml`,
                '<allowRead>true</allowRead>',
                '<allowRead>false</allowRead>'
            )
    },
    {
        name: 'card users granted a REST resource they do not need',
        expect: /Qwoty_User\.permissionset-meta\.xml: grants QwotyPing, which the card does not call/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/permissionsets/Qwoty_User.permissionset-meta.xml`,
                '    <description>',
                '    <classAccesses>\n        <apexClass>QwotyPing</apexClass>\n        <enabled>true</enabled>\n    </classAccesses>\n    <description>'
            )
    },
    {
        name: 'a CSP Trusted Site for images, which the framed card does not need',
        expect: /Qwoty_App\.cspTrustedSite-meta\.xml: the card only frames Qwoty .*ImgSrc is not needed/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/cspTrustedSites/Qwoty_App.cspTrustedSite-meta.xml`,
                '<isApplicableToImgSrc>false',
                '<isApplicableToImgSrc>true'
            )
    },
    {
        name: 'an ECA that is not packaged',
        expect: /distributionState must be Packaged/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/externalClientApps/Qwoty.eca-meta.xml`,
                '<distributionState>Packaged</distributionState>',
                '<distributionState>Local</distributionState>'
            )
    },
    {
        name: 'OAuth settings without the refresh_token scope',
        expect: /OAuth scopes must include RefreshToken/,
        breakIt: (d) =>
            edit(d, `${D}/extlClntAppOauthSettings/Qwoty_oauth.ecaOauth-meta.xml`, 'Api, RefreshToken', 'Api')
    },
    {
        name: 'global OAuth settings committed into the package',
        expect: /must not be in the package directory: global OAuth settings/,
        breakIt: (d) =>
            writeFileSync(
                join(d, `${D}/extlClntAppOauthSettings/Qwoty_glbloauth.ecaGlblOauth-meta.xml`),
                '<?xml version="1.0" encoding="UTF-8"?>\n<ExtlClntAppGlobalOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata"/>\n'
            )
    },
    {
        name: 'an unknown metadata type',
        expect: /Qwoty\.flow-meta\.xml: unknown metadata type/,
        breakIt: (d) =>
            writeFileSync(
                join(d, `${D}/classes/Qwoty.flow-meta.xml`),
                '<?xml version="1.0" encoding="UTF-8"?>\n<Flow/>\n'
            )
    },
    {
        name: 'a sync External ID without a unique index',
        expect: /QuoteLineItem\/fields\/Ref__c\.field-meta\.xml: QuoteLineItem\.Ref__c must have <unique>true<\/unique>/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/objects/QuoteLineItem/fields/Ref__c.field-meta.xml`,
                '<unique>true</unique>',
                '<unique>false</unique>'
            )
    },
    {
        name: 'a sync field that is not case-sensitive',
        expect: /Product2\.Ref__c must have <caseSensitive>true<\/caseSensitive>/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/objects/Product2/fields/Ref__c.field-meta.xml`,
                '<caseSensitive>true</caseSensitive>',
                '<caseSensitive>false</caseSensitive>'
            )
    },
    {
        name: 'a sync field missing',
        expect: /missing the sync field OpportunityLineItem\.Ref__c/,
        breakIt: (d) => unlinkSync(join(d, `${D}/objects/OpportunityLineItem/fields/Ref__c.field-meta.xml`))
    },
    {
        name: 'the deleted marker that is not a checkbox',
        expect: /Quote\.Deleted__c must be a Checkbox/,
        breakIt: (d) =>
            edit(d, `${D}/objects/Quote/fields/Deleted__c.field-meta.xml`, '<type>Checkbox</type>', '<type>Text</type>')
    },
    {
        name: 'a field on an object the package does not know',
        expect: /Contract\/fields\/Ref__c\.field-meta\.xml: field of unknown object Contract/,
        breakIt: (d) => {
            mkdirSync(join(d, `${D}/objects/Contract/fields`), { recursive: true });
            cpSync(
                join(d, `${D}/objects/Quote/fields/Ref__c.field-meta.xml`),
                join(d, `${D}/objects/Contract/fields/Ref__c.field-meta.xml`)
            );
        }
    },
    {
        name: 'the admin unable to edit a field sync writes',
        expect: /Qwoty_Admin\.permissionset-meta\.xml: does not let the admin edit Quote\.Deleted__c/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/permissionsets/Qwoty_Admin.permissionset-meta.xml`,
                '<editable>true</editable>\n        <field>Quote.Deleted__c</field>',
                '<editable>false</editable>\n        <field>Quote.Deleted__c</field>'
            )
    },
    {
        name: 'card users allowed to edit a field of the package',
        expect: /Qwoty_User\.permissionset-meta\.xml: lets its users edit Quote\.Deleted__c/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/permissionsets/Qwoty_User.permissionset-meta.xml`,
                '<editable>false</editable>\n        <field>Quote.Deleted__c</field>',
                '<editable>true</editable>\n        <field>Quote.Deleted__c</field>'
            )
    },
    {
        name: 'a permission on a field that does not exist',
        expect: /grants field Quote\.Reff__c, which is not a field of the package/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/permissionsets/Qwoty_Admin.permissionset-meta.xml`,
                '<field>Quote.Ref__c</field>',
                '<field>Quote.Reff__c</field>'
            )
    },
    {
        name: 'the LWC importing an Apex method that does not exist',
        expect: /imports QwotyCardViewController\.getCards, which is not an @AuraEnabled static method/,
        breakIt: (d) =>
            edit(
                d,
                `${D}/lwc/qwotyCardView/qwotyCardView.js`,
                'QwotyCardViewController.getCard',
                'QwotyCardViewController.getCards'
            )
    }
];

for (const c of cases) {
    test(`catches ${c.name}`, () => {
        const problems = problemsAfter(c.breakIt);
        assert.ok(
            problems.some((p) => c.expect.test(p)),
            `expected a problem matching ${c.expect}, got:\n${problems.join('\n') || '(none)'}`
        );
    });
}
