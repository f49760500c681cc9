// Offline check of the HubSpot project's configuration: hsproject.json, the
// app's app-hsmeta.json (auth, permittedUrls) and the card's *-hsmeta.json.
// It cannot ask HubSpot (its schemas are served to logged-in CLIs only), so it
// checks what this project relies on: one app URL everywhere, a card on deals,
// an entry point that exists, and the card's dependencies pinned like ours.
//
//   node scripts/check-config.mjs            checks the sources (placeholder URL)
//
// checkProject(dir, { appUrl }) is also run by retarget.mjs on its output.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
    OAUTH_CALLBACK_PATH,
    PLACEHOLDER_APP_URL,
    PLATFORM_VERSION,
    PROJECT_DIR,
    REQUIRED_SCOPES,
    OPTIONAL_SCOPES
} from './lib/project.mjs';

const UID = /^[A-Za-z0-9_.-]{1,64}$/;

function readJson(file, problems, dir) {
    try {
        return JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
        problems.push(`${relative(dir, file)}: not valid JSON (${e.message})`);
        return null;
    }
}

function sameList(a, b) {
    return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
}

function listHsMeta(dir) {
    const out = [];
    for (const name of readdirSync(dir)) {
        if (name === 'node_modules') continue;
        const full = join(dir, name);
        if (statSync(full).isDirectory()) {
            out.push(...listHsMeta(full));
        } else if (name.endsWith('-hsmeta.json')) {
            out.push(full);
        }
    }
    return out;
}

function checkApp(app, file, appUrl, problems) {
    const where = file;
    const c = app.config ?? {};
    if (typeof c.name !== 'string' || c.name.trim() === '' || c.name !== c.name.trim() || c.name.length > 200) {
        problems.push(`${where}: config.name must be 1 to 200 characters without surrounding spaces`);
    }
    if (typeof c.description !== 'string' || c.description.trim() === '') {
        problems.push(`${where}: config.description is required`);
    }
    if (!['marketplace', 'private'].includes(c.distribution)) {
        problems.push(`${where}: config.distribution must be "marketplace" or "private", got ${JSON.stringify(c.distribution)}`);
    }
    const auth = c.auth ?? {};
    if (auth.type !== 'oauth') {
        problems.push(`${where}: config.auth.type must be "oauth" (Qwoty connects each portal with OAuth), got ${JSON.stringify(auth.type)}`);
    }
    const callback = appUrl + OAUTH_CALLBACK_PATH;
    if (!sameList(auth.redirectUrls, [callback])) {
        problems.push(`${where}: config.auth.redirectUrls must be exactly [${JSON.stringify(callback)}], got ${JSON.stringify(auth.redirectUrls)}`);
    }
    if (!sameList(auth.requiredScopes, [...REQUIRED_SCOPES])) {
        problems.push(`${where}: config.auth.requiredScopes must be ${JSON.stringify(REQUIRED_SCOPES)}, got ${JSON.stringify(auth.requiredScopes)}`);
    }
    if (!sameList(auth.optionalScopes ?? [], [...OPTIONAL_SCOPES])) {
        problems.push(`${where}: config.auth.optionalScopes must be ${JSON.stringify(OPTIONAL_SCOPES)}, got ${JSON.stringify(auth.optionalScopes)}`);
    }
    const urls = c.permittedUrls ?? {};
    for (const kind of ['fetch', 'iframe']) {
        if (!sameList(urls[kind], [appUrl])) {
            problems.push(`${where}: config.permittedUrls.${kind} must be exactly [${JSON.stringify(appUrl)}], got ${JSON.stringify(urls[kind])}`);
        }
    }
    if (urls.img !== undefined && !(Array.isArray(urls.img) && urls.img.every((u) => u === appUrl))) {
        problems.push(`${where}: config.permittedUrls.img may only list ${JSON.stringify(appUrl)}, got ${JSON.stringify(urls.img)}`);
    }
}

function checkCard(card, file, srcDir, problems) {
    const where = file;
    const c = card.config ?? {};
    if (typeof c.name !== 'string' || c.name.trim() === '') {
        problems.push(`${where}: config.name is required`);
    }
    if (c.location !== 'crm.record.tab') {
        problems.push(`${where}: config.location must be "crm.record.tab", got ${JSON.stringify(c.location)}`);
    }
    if (!sameList(c.objectTypes, ['deals'])) {
        problems.push(`${where}: config.objectTypes must be ["deals"], got ${JSON.stringify(c.objectTypes)}`);
    }
    if (typeof c.entrypoint !== 'string' || !c.entrypoint.startsWith('/app/cards/')) {
        problems.push(`${where}: config.entrypoint must be a path under /app/cards/, got ${JSON.stringify(c.entrypoint)}`);
    } else if (!existsSync(join(srcDir, c.entrypoint))) {
        problems.push(`${where}: config.entrypoint ${c.entrypoint} does not exist`);
    }
}

/**
 * Checks the webhooks' component: HubSpot delivers to the server's
 * /webhooks/hubspot (crm/hubspot WebhookPath), whose v3 signature covers
 * that URL, and every subscription is active.
 */
function checkWebhooks(meta, where, appUrl, problems) {
    const c = meta.config ?? {};
    const target = `${appUrl}/webhooks/hubspot`;
    if (c.settings?.targetUrl !== target) {
        problems.push(`${where}: config.settings.targetUrl must be ${JSON.stringify(target)}, got ${JSON.stringify(c.settings?.targetUrl)}`);
    }
    const subs = c.subscriptions?.legacyCrmObjects;
    if (!Array.isArray(subs) || subs.length === 0) {
        problems.push(`${where}: config.subscriptions.legacyCrmObjects must list the subscriptions`);
        return;
    }
    for (const sub of subs) {
        if (typeof sub.subscriptionType !== 'string' || sub.active !== true) {
            problems.push(`${where}: ${JSON.stringify(sub)} must name a subscriptionType and be active`);
        }
        if (sub.subscriptionType?.endsWith('.propertyChange') && typeof sub.propertyName !== 'string') {
            problems.push(`${where}: ${sub.subscriptionType} needs a propertyName`);
        }
    }
}

/**
 * Checks the HubSpot project in dir against appUrl and returns a list of
 * problems (empty when all is well).
 */
export function checkProject(dir, { appUrl }) {
    const problems = [];
    const project = readJson(join(dir, 'hsproject.json'), problems, dir);
    if (!project) return problems;
    if (typeof project.name !== 'string' || project.name.trim() === '') {
        problems.push('hsproject.json: name is required');
    }
    if (project.platformVersion !== PLATFORM_VERSION) {
        problems.push(`hsproject.json: platformVersion must be ${JSON.stringify(PLATFORM_VERSION)}, got ${JSON.stringify(project.platformVersion)}`);
    }
    if (project.srcDir !== 'src') {
        problems.push(`hsproject.json: srcDir must be "src", got ${JSON.stringify(project.srcDir)}`);
        return problems;
    }
    const srcDir = join(dir, 'src');
    const appDir = join(srcDir, 'app');
    if (!existsSync(appDir)) {
        problems.push('src/app is missing');
        return problems;
    }

    const uids = new Map();
    let apps = 0;
    let cards = 0;
    for (const file of listHsMeta(appDir)) {
        const rel = relative(dir, file);
        const meta = readJson(file, problems, dir);
        if (!meta) continue;
        if (typeof meta.uid !== 'string' || !UID.test(meta.uid)) {
            problems.push(`${rel}: uid must be 1 to 64 of A-Z a-z 0-9 _ . -, got ${JSON.stringify(meta.uid)}`);
        } else if (uids.has(meta.uid)) {
            problems.push(`${rel}: uid ${meta.uid} is also used by ${uids.get(meta.uid)}`);
        } else {
            uids.set(meta.uid, rel);
        }
        const folder = relative(appDir, file).split(/[\\/]/).slice(0, -1).join('/');
        if (folder === '') {
            if (meta.type !== 'app') problems.push(`${rel}: type must be "app", got ${JSON.stringify(meta.type)}`);
            apps++;
            checkApp(meta, rel, appUrl, problems);
        } else if (folder === 'cards') {
            if (meta.type !== 'card') problems.push(`${rel}: type must be "card", got ${JSON.stringify(meta.type)}`);
            cards++;
            checkCard(meta, rel, srcDir, problems);
        } else if (folder === 'webhooks') {
            if (meta.type !== 'webhooks') problems.push(`${rel}: type must be "webhooks", got ${JSON.stringify(meta.type)}`);
            checkWebhooks(meta, rel, appUrl, problems);
        } else {
            problems.push(`${rel}: unexpected feature folder ${folder}`);
        }
    }
    if (apps !== 1) problems.push(`src/app must hold exactly one app *-hsmeta.json, found ${apps}`);
    if (cards !== 1) problems.push(`src/app/cards must hold exactly one card *-hsmeta.json, found ${cards}`);

    const configFile = join(appDir, 'cards', 'config.ts');
    if (!existsSync(configFile)) {
        problems.push('src/app/cards/config.ts is missing');
    } else {
        const m = /export const APP_URL = '([^']*)';/.exec(readFileSync(configFile, 'utf8'));
        if (!m || m[1] !== appUrl) {
            problems.push(`src/app/cards/config.ts: APP_URL must be ${JSON.stringify(appUrl)}, got ${JSON.stringify(m ? m[1] : null)}`);
        }
    }
    return problems;
}

/**
 * The card's package.json is what HubSpot installs when it builds the card:
 * its versions must be exact and the same as the ones this folder tests with.
 */
export function checkCardDependencies(dir) {
    const problems = [];
    const root = readJson(join(dir, 'package.json'), problems, dir);
    const card = readJson(join(dir, 'src', 'app', 'cards', 'package.json'), problems, dir);
    if (!root || !card) return problems;
    const deps = card.dependencies ?? {};
    if (Object.keys(deps).length === 0) {
        problems.push('src/app/cards/package.json: no dependencies');
    }
    for (const [name, version] of Object.entries(deps)) {
        if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(version)) {
            problems.push(`src/app/cards/package.json: ${name} must be pinned to an exact version, got ${JSON.stringify(version)}`);
        }
        const tested = root.devDependencies?.[name];
        if (tested !== version) {
            problems.push(`src/app/cards/package.json: ${name} is ${version} but package.json tests with ${tested ?? 'nothing'}`);
        }
    }
    return problems;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
    const problems = [
        ...checkProject(PROJECT_DIR, { appUrl: PLACEHOLDER_APP_URL }),
        ...checkCardDependencies(PROJECT_DIR)
    ];
    if (problems.length > 0) {
        console.error(`check-config: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
        process.exit(1);
    }
    console.log('check-config: hsproject.json, app and card configuration OK');
}
