#!/usr/bin/env node
/**
 * API reports: for every entry point of every publishable package, api-extractor reads the
 * published declarations (dist/*.d.ts, `@internal` names already stripped by the build) and
 * writes the public surface to packages/<name>/api/<entry>.api.md, which is checked in.
 *
 *   node scripts/api-report.mjs --check    fails when a report differs from the declarations
 *                                          (part of `pnpm lint`): a change of the public API is a
 *                                          visible diff in review
 *   node scripts/api-report.mjs --update   rewrites the reports (`pnpm api:update`)
 *
 * The packages are built first (`tsc -b`, nothing to do when they are up to date).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = fileURLToPath(new URL('..', import.meta.url));
const update = process.argv.includes('--update');
if (!update && !process.argv.includes('--check')) {
  console.error('usage: node scripts/api-report.mjs --check | --update');
  process.exit(2);
}

execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});

const tempFolder = join(root, 'node_modules/.cache/api-report');
mkdirSync(tempFolder, { recursive: true });
let failed = 0;

for (const dir of readdirSync(join(root, 'packages'))) {
  const packageFolder = join(root, 'packages', dir);
  const packageJsonFullPath = join(packageFolder, 'package.json');
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(packageJsonFullPath, 'utf8'));
  } catch {
    continue;
  }
  if (pkg.private) continue;
  const entries = pkg.publishConfig?.exports ?? {};
  for (const [subpath, target] of Object.entries(entries)) {
    const reportName = subpath === '.' ? dir : `${dir}-${subpath.replace(/^\.\//, '').replaceAll('/', '-')}`;
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: packageFolder,
        mainEntryPointFilePath: join(packageFolder, target.types),
        compiler: {
          // How a consumer resolves the packages: their published exports, not the sources.
          overrideTsconfig: {
            compilerOptions: {
              module: 'nodenext',
              moduleResolution: 'nodenext',
              target: 'es2022',
              strict: true,
              types: ['node'],
              skipLibCheck: true,
            },
          },
        },
        apiReport: {
          enabled: true,
          reportFolder: join(packageFolder, 'api'),
          reportTempFolder: tempFolder,
          reportFileName: `${reportName}.api.md`,
        },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          compilerMessageReporting: { default: { logLevel: 'warning' } },
          extractorMessageReporting: {
            default: { logLevel: 'warning' },
            // Vigil does not use release tags (@public/@beta); `@internal` is stripped by the build.
            'ae-missing-release-tag': { logLevel: 'none' },
            // A type reachable from the API but not exported is listed in the report itself.
            'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: true },
            // Doc comments on every member are the style's rule, not this report's.
            'ae-undocumented': { logLevel: 'none', addToApiReportFile: false },
          },
          tsdocMessageReporting: { default: { logLevel: 'none' } },
        },
      },
      packageJsonFullPath,
      configObjectFullPath: undefined,
    });
    if (update) mkdirSync(join(packageFolder, 'api'), { recursive: true });
    const result = Extractor.invoke(config, {
      localBuild: update,
      showVerboseMessages: false,
      messageCallback: (message) => {
        // "Analysis will use the bundled TypeScript version": it reads .d.ts files only.
        if (message.messageId === 'console-compiler-version-notice') message.handled = true;
      },
    });
    const where = `packages/${dir}/api/${reportName}.api.md`;
    if (result.apiReportChanged && !update) {
      console.error(`api: ${pkg.name} (${subpath}): the public API differs from ${where}.`);
      console.error('     If the change is meant, run `pnpm api:update` and commit the report.');
      failed++;
    } else if (!result.succeeded) {
      console.error(`api: ${pkg.name} (${subpath}): api-extractor failed (${result.errorCount} errors)`);
      failed++;
    } else if (result.apiReportChanged) {
      console.log(`api: updated ${where}`);
    }
  }
}
if (failed) process.exit(1);
console.log(`api: reports ${update ? 'written' : 'match the declarations'}`);
