// The reviewed suppressions of code-analyzer.yml, in Code Analyzer v5's own
// format (so that `sf code-analyzer run` applies the same ones):
//
//   suppressions:
//     force-app/main/default/classes/QwotySignerTest.cls:   # a file or a folder
//       - rule_selector: pmd:AvoidHardcodingId              # engine:Rule, one rule
//         max_suppressed_violations: 9                      # optional ceiling
//         reason: why this finding is not a defect here     # required
//
// The package check applies them itself rather than through Code Analyzer, so
// that it can refuse what a review should never let through: an entry without
// a reason, a suppressed security rule, and an entry that no longer matches
// anything (stale: the code changed, the suppression must go).
import { existsSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';

/** Reasons shorter than this are not reasons. */
export const MIN_REASON_LENGTH = 20;

/**
 * Reads the suppressions section and returns { entries, problems }. Each
 * entry is { path, engine, rule, max, reason, used: 0 }.
 */
export function readSuppressions(section, root) {
    const entries = [];
    const problems = [];
    if (section === undefined || section === null) {
        return { entries, problems };
    }
    if (typeof section !== 'object' || Array.isArray(section)) {
        return { entries, problems: ['suppressions must be a map of paths to lists of entries'] };
    }
    for (const [path, list] of Object.entries(section)) {
        if (path === 'disable_suppressions') {
            problems.push('suppressions.disable_suppressions: leave it out, the check decides what is suppressed');
            continue;
        }
        if (isAbsolute(path) || normalize(path).startsWith('..')) {
            problems.push(`suppressions: ${path} must be relative to the project`);
            continue;
        }
        if (!existsSync(join(root, path))) {
            problems.push(`suppressions: ${path} does not exist (renamed or removed? update or drop its entries)`);
        }
        if (!Array.isArray(list) || list.length === 0) {
            problems.push(`suppressions: ${path} must hold a list of entries`);
            continue;
        }
        list.forEach((item, index) => {
            const where = `suppressions: ${path} [${index}]`;
            const selector = item && item.rule_selector;
            const match = typeof selector === 'string' ? /^([a-z]+):([A-Za-z0-9@/_-]+)$/.exec(selector) : null;
            if (!match) {
                problems.push(
                    `${where}: rule_selector must name one rule as engine:Rule, got ${JSON.stringify(selector)}`
                );
                return;
            }
            const reason = item.reason;
            if (typeof reason !== 'string' || reason.trim().length < MIN_REASON_LENGTH) {
                problems.push(
                    `${where} (${selector}): every suppression needs a reason (${MIN_REASON_LENGTH}+ characters)`
                );
                return;
            }
            const max = item.max_suppressed_violations;
            if (max !== undefined && max !== null && !(Number.isInteger(max) && max > 0)) {
                problems.push(`${where} (${selector}): max_suppressed_violations must be a positive integer`);
                return;
            }
            const extra = Object.keys(item).filter(
                (k) => !['rule_selector', 'reason', 'max_suppressed_violations'].includes(k)
            );
            if (extra.length > 0) {
                problems.push(`${where} (${selector}): unknown key(s) ${extra.join(', ')}`);
                return;
            }
            entries.push({
                path: normalize(path).replace(/\/$/, ''),
                engine: match[1],
                rule: match[2],
                max: max ?? null,
                reason: reason.trim(),
                used: 0
            });
        });
    }
    return { entries, problems };
}

function covers(entryPath, file) {
    return file === entryPath || file.startsWith(entryPath + sep) || file.startsWith(entryPath + '/');
}

/**
 * Splits violations ({ engine, rule, file (relative), ... }) into kept and
 * suppressed, counting each entry's use; an entry stops matching once its
 * max_suppressed_violations is reached.
 */
export function applySuppressions(violations, entries) {
    const kept = [];
    const suppressed = [];
    for (const v of violations) {
        const entry = entries.find(
            (e) =>
                e.engine === v.engine &&
                e.rule === v.rule &&
                v.file &&
                covers(e.path, v.file) &&
                (e.max === null || e.used < e.max)
        );
        if (entry) {
            entry.used++;
            suppressed.push(v);
        } else {
            kept.push(v);
        }
    }
    return { kept, suppressed };
}

/**
 * What a review must look at after a run: entries that suppress a rule
 * tagged Security (securityRules: Set of "engine:Rule"), and entries that
 * matched nothing.
 */
export function reviewProblems(entries, securityRules) {
    const problems = [];
    for (const e of entries) {
        const name = `${e.engine}:${e.rule}`;
        if (securityRules.has(name)) {
            problems.push(`suppressions: ${e.path} suppresses ${name}, a security rule: fix the code instead`);
        }
        if (e.used === 0) {
            problems.push(`suppressions: ${e.path} ${name} matched no finding: remove the stale entry`);
        }
    }
    return problems;
}
