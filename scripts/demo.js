#!/usr/bin/env node
// The demo command (`npm run demo`). Until the templates/demo issue lands this
// says what it will do; the pieces it will drive (the sandboxes and the real
// n8n harness in scripts/n8n) are usable on their own already.
'use strict';
console.log(`n8n-nodes-rebound-khaos demo (not wired yet)

When finished, this command will, on this machine only (127.0.0.1):
  1. install Node 24 and n8n 2.40.7 into a cache outside the clone (once),
  2. build and pack this package and install the tarball into n8n's nodes folder,
  3. start the ReBound and Khaos Control sandboxes with the demo fixture,
  4. start n8n (sqlite), create the owner, import credentials and templates, activate them,
  5. drive returns through (restock, quarantine, unmapped disposition, archived SKU,
     partial return with discount) and print stock moved, credit notes and exceptions,
  6. leave the editor running until you press Ctrl+C.

Available now:
  npm run sandbox:khaos -- --port 8084 --fixture sandbox/fixtures/khaos-default.json
  npm run sandbox:rebound -- --port 8085 --fixture sandbox/fixtures/rebound-default.json
  npm test`);
