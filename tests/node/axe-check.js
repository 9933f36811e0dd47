// Runs axe-core on an HTML file in Debian's chromium through playwright-core and fails on any
// serious or critical violation. Usage: node axe-check.js FILE.html [SCREENSHOT.png]
// Prints one line per violation (impact, rule, count of nodes, first target).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

async function main() {
  const [file, screenshot] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node axe-check.js FILE.html [SCREENSHOT.png]');
    process.exit(2);
  }
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ddbaudit-axe-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  let failed = false;
  try {
    const page = await context.newPage();
    // The packet must fetch nothing: any request other than the file itself is a failure.
    const target = 'file://' + path.resolve(file);
    page.on('request', (request) => {
      if (request.url() !== target) {
        console.log(`external request: ${request.url()}`);
        failed = true;
      }
    });
    await page.goto(target, { waitUntil: 'load', timeout: 120000 });
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    const results = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      return await axe.run(document, { resultTypes: ['violations'] });
    });
    for (const v of results.violations) {
      const serious = v.impact === 'serious' || v.impact === 'critical';
      if (serious) failed = true;
      const first = v.nodes[0] ? v.nodes[0].target.join(' ') : '';
      console.log(`${v.impact}: ${v.id} (${v.nodes.length} nodes, e.g. ${first}): ${v.help}`);
    }
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: false });
    console.log(`${results.violations.length} violation rules; ` +
                `${failed ? 'FAIL: serious or critical violations' : 'no serious or critical'}`);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
