// Code Analyzer's security rules fire offline: on a copy of the package whose
// controller reads the opportunity without user mode, PMD reports the missing
// CRUD check and the graph engine the FLS violation, and neither can be
// suppressed. This test runs the graph engine once (about 30 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze, formatViolation } from '../code-analyzer.mjs';

const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONTROLLER = 'force-app/main/default/classes/QwotyCardViewController.cls';

test('a query without user mode is an FLS violation (sfge) and a CRUD violation (PMD)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qwoty-analyzer-'));
    try {
        for (const name of ['sfdx-project.json', 'code-analyzer.yml', 'force-app']) {
            cpSync(join(PROJECT, name), join(dir, name), { recursive: true });
        }
        const path = join(dir, CONTROLLER);
        const source = readFileSync(path, 'utf8');
        const userMode = /List<Opportunity> rows = Database\.query\([^;]*WITH USER_MODE[^;]*\);/.exec(source);
        assert.ok(userMode, 'fixture setup: the controller reads the opportunity with a user-mode query');
        writeFileSync(
            path,
            source.replace(
                userMode[0],
                'List<Opportunity> rows = [SELECT Id, Name, Amount FROM Opportunity WHERE Id = :recordId LIMIT 1];'
            )
        );

        const result = await analyze(dir, { selectors: ['pmd:Security', 'sfge:Security'] });
        const found = result.kept.map(formatViolation);
        for (const pattern of [
            /QwotyCardViewController\.cls:\d+ High sfge:ApexFlsViolation FLS validation is missing for \[READ\] operation on \[Opportunity\]/,
            /QwotyCardViewController\.cls:\d+ High pmd:ApexCRUDViolation/
        ]) {
            assert.ok(
                found.some((v) => pattern.test(v)),
                `expected ${pattern} in:\n${found.join('\n') || '(none)'}`
            );
        }
        assert.deepEqual(result.problems, []);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
