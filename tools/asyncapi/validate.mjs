// Validates an AsyncAPI document with the official parser (@asyncapi/parser), the way a
// subscriber's tooling reads it: every diagnostic is printed as one JSON line; the exit status
// is 1 when any has severity "error" (0), 2 when the document cannot be read.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const path = process.argv[2];
if (!path) {
  console.error("usage: node validate.mjs ASYNCAPI_FILE");
  process.exit(2);
}
let source;
try {
  source = await readFile(path, "utf8");
} catch (error) {
  console.error(`cannot read ${path}: ${error.message}`);
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await parser.parse(source, { source: resolve(path) });
const names = Object.fromEntries(Object.entries(DiagnosticSeverity).map(([k, v]) => [v, k]));
for (const d of diagnostics) {
  console.log(JSON.stringify({
    severity: names[d.severity] ?? d.severity,
    code: d.code,
    message: d.message,
    path: d.path.join("."),
  }));
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).length;
const summary = {
  valid: document !== undefined && errors === 0,
  errors,
  warnings: diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning).length,
  channels: document ? document.channels().length : 0,
  operations: document ? document.operations().length : 0,
  messages: document ? document.components().messages().length : 0,
};
console.log(JSON.stringify({ summary }));
process.exit(summary.valid ? 0 : 1);
