// Offline check of the package sources: every metadata file is well-formed
// XML of the right type with the fields its type requires, one API version
// everywhere, and the names that files use to point at each other (Apex →
// named credential and custom setting, named credential → external
// credential, permission set → classes and principal, CSP sites → app URL,
// LWC → Apex) resolve, and the package's own rules hold (least privilege,
// what a callout through the named credential needs).
//
//   node scripts/check-metadata.mjs [--root DIR] [--app-url URL] [--oauth-link VALUE]
//
// --root defaults to the salesforce-package folder; --app-url / --oauth-link
// additionally require that URL and OAuth link (used on retargeted builds).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FORBIDDEN, METADATA_NS, TYPES } from './lib/metadata-rules.mjs';

const NAMESPACE = 'Qwoty';
const PACKAGE_DIR = 'force-app';
const MIN_API_VERSION = 62;

/**
 * Standard objects the package may add fields to. A standard object has no
 * .object-meta.xml of the package's: its folder holds only fields.
 */
const STANDARD_OBJECTS = new Set([
    'Account',
    'Opportunity',
    'OpportunityLineItem',
    'Order',
    'OrderItem',
    'PricebookEntry',
    'Product2',
    'Quote',
    'QuoteLineItem'
]);

/**
 * The fields Qwoty's sync writes (docs/sync-salesforce.md): an External ID
 * on every object it upserts (the accounts and opportunities of deals made
 * from Qwoty included), and the deleted marker of a mirrored quote. The
 * server names them with the namespace (Qwoty__Ref__c).
 */
const SYNC_REF_OBJECTS = ['Account', 'Opportunity', 'OpportunityLineItem', 'Product2', 'Quote', 'QuoteLineItem'];
const SYNC_FIELDS = [...SYNC_REF_OBJECTS.map((o) => `${o}.Ref__c`), 'Quote.Deleted__c'];

const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: false,
    trimValues: true
});

function asArray(value) {
    if (value === undefined || value === null) {
        return [];
    }
    return Array.isArray(value) ? value : [value];
}

function walk(dir) {
    const out = [];
    for (const name of readdirSync(dir).sort()) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) {
            if (name === '__tests__' || name === 'node_modules') {
                continue;
            }
            out.push(...walk(full));
        } else {
            out.push(full);
        }
    }
    return out;
}

function isBareHttpsOrigin(url) {
    try {
        const parsed = new URL(url);
        return parsed.protocol === 'https:' && parsed.origin === url;
    } catch {
        return false;
    }
}

/** The contents of every single-quoted string literal of an Apex source. */
function apexLiterals(source) {
    const literals = [];
    const re = /'((?:[^'\\\n]|\\.)*)'/g;
    let match;
    while ((match = re.exec(source)) !== null) {
        literals.push(match[1]);
    }
    return literals;
}

function stripApexComments(source) {
    return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
}

/**
 * Checks the project at root and returns the list of problems found (empty
 * when everything is consistent).
 */
export function checkProject(root, { appUrl, oauthLink } = {}) {
    const problems = [];
    const problem = (file, message) => problems.push(`${file ? relative(root, file) + ': ' : ''}${message}`);

    // sfdx-project.json
    const projectFile = join(root, 'sfdx-project.json');
    let apiVersion;
    try {
        const project = JSON.parse(readFileSync(projectFile, 'utf8'));
        const dirs = asArray(project.packageDirectories);
        if (dirs.length !== 1 || dirs[0].path !== PACKAGE_DIR || dirs[0].default !== true) {
            problem(projectFile, `expected exactly one default package directory "${PACKAGE_DIR}"`);
        }
        if (project.namespace !== NAMESPACE) {
            problem(projectFile, `namespace must be "${NAMESPACE}", got ${JSON.stringify(project.namespace)}`);
        }
        apiVersion = project.sourceApiVersion;
        if (!/^\d+\.0$/.test(apiVersion || '') || Number.parseFloat(apiVersion) < MIN_API_VERSION) {
            problem(
                projectFile,
                `sourceApiVersion must be "${MIN_API_VERSION}.0" or later, got ${JSON.stringify(apiVersion)}`
            );
        }
    } catch (e) {
        problem(projectFile, `cannot read: ${e.message}`);
        return problems;
    }

    const base = join(root, PACKAGE_DIR, 'main', 'default');
    if (!existsSync(base)) {
        problem(null, `missing ${relative(root, base)}`);
        return problems;
    }
    const files = walk(join(root, PACKAGE_DIR));

    // Parse every -meta.xml and check type, namespace, required fields, API version.
    const docs = new Map(); // file -> { type, body }
    for (const file of files) {
        const forbidden = FORBIDDEN.find((f) => file.endsWith(f.suffix));
        if (forbidden) {
            problem(file, `must not be in the package directory: ${forbidden.why}`);
            continue;
        }
        if (!file.endsWith('-meta.xml')) {
            continue;
        }
        const type = TYPES.find((t) => file.endsWith(t.suffix));
        if (!type) {
            problem(file, 'unknown metadata type: teach scripts/lib/metadata-rules.mjs about it');
            continue;
        }
        const text = readFileSync(file, 'utf8');
        if (!text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')) {
            problem(file, 'must start with <?xml version="1.0" encoding="UTF-8"?>');
        }
        const valid = XMLValidator.validate(text);
        if (valid !== true) {
            problem(file, `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
            continue;
        }
        const parsed = parser.parse(text);
        const body = parsed[type.root];
        if (!body || typeof body !== 'object') {
            problem(file, `root element must be <${type.root}>`);
            continue;
        }
        if (body['@xmlns'] !== METADATA_NS) {
            problem(file, `<${type.root}> must declare xmlns="${METADATA_NS}"`);
        }
        for (const field of type.required) {
            if (body[field] === undefined || body[field] === '') {
                problem(file, `<${type.root}> requires <${field}>`);
            }
        }
        if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
            problem(file, `apiVersion ${body.apiVersion} differs from sourceApiVersion ${apiVersion}`);
        }
        docs.set(file, { type: type.root, body });
    }

    const byType = (root) => [...docs.entries()].filter(([, d]) => d.type === root);
    const nameOf = (file, suffix) => basename(file).slice(0, -suffix.length);

    // Apex classes: each .cls has its -meta.xml and the other way round.
    const classDir = join(base, 'classes');
    const classFiles = files.filter((f) => f.endsWith('.cls'));
    const classes = new Map(); // name -> source
    for (const file of classFiles) {
        classes.set(basename(file, '.cls'), readFileSync(file, 'utf8'));
        if (!existsSync(`${file}-meta.xml`)) {
            problem(file, 'has no .cls-meta.xml');
        }
    }
    for (const file of files.filter((f) => f.endsWith('.cls-meta.xml'))) {
        if (!existsSync(file.slice(0, -'-meta.xml'.length))) {
            problem(file, 'has no .cls file');
        }
    }
    for (const [file, doc] of byType('ApexClass')) {
        if (doc.body.status !== 'Active') {
            problem(file, 'status must be Active');
        }
    }
    // Apex REST resources: each has one urlMapping starting with "/", used by no other class
    // (Salesforce refuses to deploy two resources on the same mapping).
    const restOwners = new Map(); // urlMapping -> class name
    for (const [name, source] of classes) {
        if (!/@RestResource\b/i.test(source)) {
            continue;
        }
        const file = join(classDir, `${name}.cls`);
        const match = /@RestResource\s*\(\s*urlMapping\s*=\s*'([^']*)'\s*\)/i.exec(source);
        if (!match) {
            problem(file, "@RestResource needs urlMapping='/...'");
            continue;
        }
        const mapping = match[1];
        if (!mapping.startsWith('/')) {
            problem(file, `urlMapping ${mapping} must start with /`);
        } else if (restOwners.has(mapping)) {
            problem(file, `urlMapping ${mapping} is also used by ${restOwners.get(mapping)}`);
        } else {
            restOwners.set(mapping, name);
        }
    }
    // A test class carries @IsTest before its class keyword.
    const isTestClass = (source) => /@IsTest\b/i.test(stripApexComments(source).split(/\bclass\b/i)[0]);

    // Custom objects and fields.
    const objects = new Map(); // name -> { body, fields:Set }
    const fieldDocs = new Map(); // "Object.Field" -> { file, body }
    for (const [file, doc] of byType('CustomObject')) {
        objects.set(nameOf(file, '.object-meta.xml'), { file, body: doc.body, fields: new Set() });
    }
    for (const [file, doc] of byType('CustomField')) {
        const objectName = basename(dirname(dirname(file)));
        const fieldName = nameOf(file, '.field-meta.xml');
        if (doc.body.fullName !== fieldName) {
            problem(file, `fullName ${doc.body.fullName} does not match the file name ${fieldName}`);
        }
        let object = objects.get(objectName);
        if (!object && STANDARD_OBJECTS.has(objectName)) {
            object = { file: null, body: null, standard: true, fields: new Set() };
            objects.set(objectName, object);
        }
        if (!object) {
            problem(file, `field of unknown object ${objectName}`);
        } else {
            object.fields.add(fieldName);
            fieldDocs.set(`${objectName}.${fieldName}`, { file, body: doc.body });
        }
    }
    // Sync's fields: an External ID on each object it upserts, unique and
    // case-sensitive (the server matches refs exactly and upserts without
    // "View All Data", which a non-unique External ID would need), and the
    // deleted marker, a checkbox that starts false.
    for (const name of SYNC_FIELDS) {
        const f = fieldDocs.get(name);
        if (!f) {
            problem(null, `missing the sync field ${name} (objects/${name.replace('.', '/fields/')}.field-meta.xml)`);
            continue;
        }
        const b = f.body;
        if (name.endsWith('.Ref__c')) {
            const want = {
                type: 'Text',
                externalId: 'true',
                unique: 'true',
                caseSensitive: 'true',
                length: '255',
                required: 'false'
            };
            for (const [k, v] of Object.entries(want)) {
                if (String(b[k]) !== v) {
                    problem(
                        f.file,
                        `${name} must have <${k}>${v}</${k}> (got ${JSON.stringify(b[k])}): sync upserts by it`
                    );
                }
            }
        } else if (b.type !== 'Checkbox' || b.defaultValue !== 'false') {
            problem(f.file, `${name} must be a Checkbox with <defaultValue>false</defaultValue>`);
        }
    }
    const config = objects.get('Qwoty_Config__c');
    if (!config) {
        problem(null, 'missing the custom setting objects/Qwoty_Config__c');
    } else {
        if (config.body.customSettingsType !== 'Hierarchy') {
            problem(config.file, 'Qwoty_Config__c must be a Hierarchy custom setting');
        }
        if (config.body.visibility !== 'Protected') {
            problem(
                config.file,
                'Qwoty_Config__c must have visibility Protected (the secret stays inside the package)'
            );
        }
        for (const field of ['Secret__c', 'App_URL__c']) {
            if (!config.fields.has(field)) {
                problem(config.file, `Qwoty_Config__c is missing field ${field}`);
            }
        }
    }

    // External credentials and their principals.
    const principals = new Set(); // "<credential>-<principal>"
    const externalCredentials = new Set();
    for (const [file, doc] of byType('ExternalCredential')) {
        const name = nameOf(file, '.externalCredential-meta.xml');
        externalCredentials.add(name);
        const named = asArray(doc.body.externalCredentialParameters).filter(
            (p) => p.parameterType === 'NamedPrincipal'
        );
        if (named.length === 0) {
            problem(file, 'needs a NamedPrincipal parameter for the permission set to grant');
        }
        for (const p of named) {
            principals.add(`${name}-${p.parameterName}`);
            // Salesforce Help, "Create or Edit a Custom Authentication External Credential":
            // with the Custom protocol a principal needs authentication parameters, each
            // with a name and a value.
            const group = p.parameterGroup || p.parameterName;
            const authParameters = asArray(doc.body.externalCredentialParameters).filter(
                (q) => q.parameterType === 'AuthParameter' && q.parameterGroup === group && q.parameterValue
            );
            if (doc.body.authenticationProtocol === 'Custom' && authParameters.length === 0) {
                problem(
                    file,
                    `principal ${p.parameterName} of a Custom external credential needs an AuthParameter with a value in parameterGroup ${group}`
                );
            }
        }
    }

    // Named credentials: secured endpoint with an https URL and an existing external credential.
    const namedCredentials = new Map(); // name -> url
    for (const [file, doc] of byType('NamedCredential')) {
        const name = nameOf(file, '.namedCredential-meta.xml');
        const params = asArray(doc.body.namedCredentialParameters);
        if (doc.body.namedCredentialType !== 'SecuredEndpoint') {
            problem(file, 'namedCredentialType must be SecuredEndpoint');
        }
        const urls = params.filter((p) => p.parameterType === 'Url');
        if (urls.length !== 1) {
            problem(file, 'needs exactly one Url parameter');
        } else if (!isBareHttpsOrigin(urls[0].parameterValue)) {
            problem(file, `Url must be an https origin without path, got ${JSON.stringify(urls[0].parameterValue)}`);
        } else {
            namedCredentials.set(name, urls[0].parameterValue);
        }
        const auth = params.filter((p) => p.parameterType === 'Authentication');
        if (auth.length !== 1 || !externalCredentials.has(auth[0].externalCredential)) {
            problem(
                file,
                `must reference an existing external credential (have: ${[...externalCredentials].join(', ') || 'none'})`
            );
        }
        if (doc.body.allowMergeFieldsInHeader === 'true' || doc.body.allowMergeFieldsInBody === 'true') {
            problem(file, 'merge fields must stay off: the body is signed byte for byte');
        }
    }
    const apiUrl = namedCredentials.get('Qwoty_API');
    if (!namedCredentials.has('Qwoty_API')) {
        problem(null, 'missing the named credential namedCredentials/Qwoty_API');
    }
    if (appUrl && apiUrl && apiUrl !== appUrl) {
        problem(null, `Qwoty_API points at ${apiUrl}, expected ${appUrl}`);
    }

    // CSP trusted sites: active, Lightning Experience, https origins, the app one equal to the API URL.
    const sites = new Map();
    for (const [file, doc] of byType('CspTrustedSite')) {
        const name = nameOf(file, '.cspTrustedSite-meta.xml');
        sites.set(name, { file, body: doc.body });
        if (doc.body.isActive !== 'true') {
            problem(file, 'must be active');
        }
        if (doc.body.context !== 'LEX') {
            problem(file, `context must be LEX, got ${doc.body.context}`);
        }
        if (!isBareHttpsOrigin(doc.body.endpointUrl)) {
            problem(
                file,
                `endpointUrl must be an https origin without path, got ${JSON.stringify(doc.body.endpointUrl)}`
            );
        }
    }
    const appSite = sites.get('Qwoty_App');
    if (!appSite) {
        problem(null, 'missing cspTrustedSites/Qwoty_App');
    } else {
        if (appSite.body.isApplicableToFrameSrc !== 'true') {
            problem(appSite.file, 'must apply to frame-src (the card is an iframe)');
        }
        if (apiUrl && appSite.body.endpointUrl !== apiUrl) {
            problem(appSite.file, `endpointUrl ${appSite.body.endpointUrl} differs from the Qwoty_API URL ${apiUrl}`);
        }
    }
    // The card is an iframe: what the Qwoty page loads (images, styles, fonts) is
    // governed by that page's own CSP, not by Lightning's. Only frame-src is needed.
    const otherDirectives = ['ConnectSrc', 'FontSrc', 'ImgSrc', 'MediaSrc', 'StyleSrc'];
    for (const [name, site] of sites) {
        const extra = otherDirectives.filter((d) => site.body[`isApplicableTo${d}`] === 'true');
        if (name !== 'Qwoty_App' || extra.length > 0) {
            problem(
                site.file,
                `the card only frames Qwoty (frame-src for Qwoty_App); ${extra.length > 0 ? extra.join(', ') : name} is not needed: everything else loads inside the iframe under the Qwoty page's own CSP`
            );
        }
    }

    // External client app and its OAuth settings.
    const apps = new Set();
    for (const [file, doc] of byType('ExternalClientApplication')) {
        apps.add(nameOf(file, '.eca-meta.xml'));
        if (doc.body.distributionState !== 'Packaged') {
            problem(file, 'distributionState must be Packaged');
        }
        if (doc.body.orgScopedExternalApp !== undefined) {
            problem(file, 'orgScopedExternalApp is specific to one org: remove it before committing');
        }
    }
    if (!apps.has('Qwoty')) {
        problem(null, 'missing externalClientApps/Qwoty.eca-meta.xml');
    }
    for (const [file, doc] of byType('ExtlClntAppOauthSettings')) {
        if (!apps.has(doc.body.externalClientApplication)) {
            problem(file, `externalClientApplication ${doc.body.externalClientApplication} does not exist`);
        }
        const scopes = String(doc.body.commaSeparatedOauthScopes || '')
            .split(',')
            .map((s) => s.trim());
        for (const scope of ['Api', 'RefreshToken']) {
            if (!scopes.includes(scope)) {
                problem(file, `OAuth scopes must include ${scope}`);
            }
        }
        if (oauthLink !== undefined && doc.body.oauthLink !== oauthLink) {
            problem(
                file,
                `oauthLink is ${JSON.stringify(doc.body.oauthLink)}, expected ${oauthLink}: installed apps must use the Dev Hub's OAuth consumer`
            );
        }
    }

    // Apex: callouts go through the packaged named credential, custom setting names exist.
    let callouts = 0;
    for (const [name, source] of classes) {
        const file = join(classDir, `${name}.cls`);
        for (const literal of apexLiterals(source)) {
            const match = /^callout:([A-Za-z0-9_]+)/.exec(literal);
            if (!match) {
                continue;
            }
            callouts++;
            const [prefix, credential] = match[1].includes('__') ? match[1].split('__') : [null, match[1]];
            if (prefix !== NAMESPACE) {
                problem(file, `callout:${match[1]} must carry the namespace prefix ${NAMESPACE}__`);
            } else if (!namedCredentials.has(credential)) {
                problem(file, `callout:${match[1]} names a named credential that does not exist`);
            }
        }
        const code = stripApexComments(source).replace(/'(?:[^'\\\n]|\\.)*'/g, "''");
        for (const [, token] of code.matchAll(/\b([A-Za-z][A-Za-z0-9_]*__c)\b/g)) {
            const known = objects.has(token) || [...objects.values()].some((o) => o.fields.has(token));
            if (!known) {
                problem(file, `refers to ${token}, which is neither a custom object nor a field of the package`);
            }
        }
    }
    if (callouts === 0) {
        problem(null, 'no Apex class calls out through callout:Qwoty__Qwoty_API');
    }
    const readsConfig = [...classes.values()].some(
        (s) => /Qwoty_Config__c\.getOrgDefaults\(\)/.test(s) && /\bSecret__c\b/.test(s)
    );
    if (!readsConfig) {
        problem(null, 'no Apex class reads Qwoty_Config__c.getOrgDefaults().Secret__c');
    }

    // LWC: bundles are complete and their Apex imports resolve to @AuraEnabled methods.
    const lwcDir = join(base, 'lwc');
    const lwcApexClasses = new Set();
    if (existsSync(lwcDir)) {
        for (const bundle of readdirSync(lwcDir).filter((n) => statSync(join(lwcDir, n)).isDirectory())) {
            for (const ext of ['.js', '.html', '.js-meta.xml']) {
                if (!existsSync(join(lwcDir, bundle, bundle + ext))) {
                    problem(join(lwcDir, bundle), `bundle is missing ${bundle}${ext}`);
                }
            }
            const jsFiles = files.filter((f) => dirname(f) === join(lwcDir, bundle) && f.endsWith('.js'));
            for (const jsFile of jsFiles) {
                const js = readFileSync(jsFile, 'utf8');
                for (const [, cls, method] of js.matchAll(
                    /@salesforce\/apex\/(?:[A-Za-z0-9_]+\.)?([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)['"]/g
                )) {
                    lwcApexClasses.add(cls);
                    const source = classes.get(cls);
                    const declared =
                        source &&
                        new RegExp(
                            `@AuraEnabled[^\\n]*\\s+(?:public|global)\\s+static\\s+[\\w<>, ]+\\s+${method}\\s*\\(`
                        ).test(source);
                    if (!declared) {
                        problem(
                            jsFile,
                            `imports ${cls}.${method}, which is not an @AuraEnabled static method of an existing class`
                        );
                    }
                }
            }
        }
    }
    for (const [file, doc] of byType('LightningComponentBundle')) {
        if (doc.body.isExposed === 'true') {
            const targets = asArray(doc.body.targets && doc.body.targets.target);
            if (targets.length === 0) {
                problem(file, 'an exposed component needs at least one target');
            }
        }
    }

    // Permission sets: every class and principal they grant exists; test classes are never granted;
    // the classes users need (LWC controllers, REST resources) are granted.
    const granted = new Set();
    const grantedPrincipals = new Set();
    const needed = (name) => lwcApexClasses.has(name) || /@RestResource\s*\(/.test(classes.get(name) || '');
    for (const [file, doc] of byType('PermissionSet')) {
        if (String(doc.body.label).length > 80) {
            problem(file, 'label is longer than 80 characters');
        }
        if (doc.body.description !== undefined && String(doc.body.description).length > 255) {
            problem(file, `description is ${String(doc.body.description).length} characters, Salesforce allows 255`);
        }
        for (const access of asArray(doc.body.classAccesses)) {
            const source = classes.get(access.apexClass);
            if (!source) {
                problem(file, `grants class ${access.apexClass}, which does not exist`);
            } else if (isTestClass(source)) {
                problem(file, `grants test class ${access.apexClass}`);
            } else if (access.enabled === 'true') {
                granted.add(access.apexClass);
            }
        }
        const principalAccesses = asArray(doc.body.externalCredentialPrincipalAccesses);
        for (const access of principalAccesses) {
            if (!principals.has(access.externalCredentialPrincipal)) {
                problem(
                    file,
                    `grants principal ${access.externalCredentialPrincipal}, which does not exist (have: ${[...principals].join(', ') || 'none'})`
                );
            } else if (access.enabled === 'true') {
                grantedPrincipals.add(access.externalCredentialPrincipal);
            }
        }
        // Salesforce Help, "Enable User External Credentials": a user who makes a callout
        // through a named credential needs access to the User External Credential object;
        // standard profiles have it, custom ones may not.
        if (principalAccesses.some((a) => a.enabled === 'true')) {
            const uec = asArray(doc.body.objectPermissions).find((o) => o.object === 'UserExternalCredential');
            if (!uec || uec.allowRead !== 'true') {
                problem(
                    file,
                    'grants an external credential principal but not Read on UserExternalCredential: users of custom profiles could not call out'
                );
            }
        }
        // Field permissions name fields of the package; only the admin's
        // set may edit them (sync runs as the admin who connected), and it
        // must edit every field sync writes.
        const setName = nameOf(file, '.permissionset-meta.xml');
        const editable = new Set();
        for (const fp of asArray(doc.body.fieldPermissions)) {
            if (!fieldDocs.has(fp.field)) {
                problem(file, `grants field ${fp.field}, which is not a field of the package`);
            } else if (fp.editable === 'true' && fp.readable !== 'true') {
                problem(file, `grants edit on ${fp.field} without read`);
            }
            if (fp.editable === 'true') {
                editable.add(fp.field);
            }
        }
        if (setName === 'Qwoty_Admin') {
            for (const name of SYNC_FIELDS) {
                if (!editable.has(name)) {
                    problem(file, `does not let the admin edit ${name}, which sync writes as the connected admin`);
                }
            }
        }
        if (setName !== 'Qwoty_Admin' && editable.size > 0) {
            problem(
                file,
                `lets its users edit ${[...editable].join(', ')}: only sync (Qwoty_Admin) writes the package's fields`
            );
        }
        // Least privilege: card users get what the card calls, nothing else.
        if (setName === 'Qwoty_User') {
            for (const access of asArray(doc.body.classAccesses)) {
                if (access.enabled === 'true' && !lwcApexClasses.has(access.apexClass)) {
                    problem(
                        file,
                        `grants ${access.apexClass}, which the card does not call: card users get only the card's controller (the Qwoty server calls the REST resources as the admin with Qwoty_Admin)`
                    );
                }
            }
        }
    }
    for (const name of classes.keys()) {
        if (needed(name) && !granted.has(name)) {
            problem(join(classDir, `${name}.cls`), 'is called by users (LWC or REST) but no permission set grants it');
        }
    }
    for (const principal of principals) {
        if (!grantedPrincipals.has(principal)) {
            problem(null, `no permission set grants the external credential principal ${principal}`);
        }
    }

    return problems;
}

function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (!['--root', '--app-url', '--oauth-link'].includes(flag) || argv[i + 1] === undefined) {
            throw new Error(
                `usage: check-metadata.mjs [--root DIR] [--app-url URL] [--oauth-link VALUE] (bad argument ${flag})`
            );
        }
        args[flag.slice(2)] = argv[++i];
    }
    return args;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
    try {
        const args = parseArgs(process.argv.slice(2));
        const root = resolve(args.root || join(dirname(fileURLToPath(import.meta.url)), '..'));
        const problems = checkProject(root, { appUrl: args['app-url'], oauthLink: args['oauth-link'] });
        if (problems.length > 0) {
            console.error(`check-metadata: ${problems.length} problem(s) in ${root}`);
            for (const p of problems) {
                console.error(`  - ${p}`);
            }
            process.exit(1);
        }
        console.log(`check-metadata: OK (${root})`);
    } catch (e) {
        console.error(`check-metadata: ${e.message}`);
        process.exit(2);
    }
}
