// Checks otwatch's golden KQL queries with Microsoft's own parser and analyzer
// (@kusto/language-service-next), run by crates/otwatch-query/tests/suite/oracle.rs.
// Input: a JSON file {schema: {Table: "(Col:type, ...)"}, queries: [{name, query}]}.
// Output (stdout): a JSON array, per query: {name, errors: [...], columns: ["Name:type", ...]}.
global.Bridge = require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
const K = global.Kusto.Language, S = K.Symbols;
const input = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const tables = Object.entries(input.schema).map(([n, s]) => new S.TableSymbol.$ctor7(n, s, ''));
const db = new S.DatabaseSymbol.$ctor1('otwatch', tables, false);
const globals = K.GlobalState.Default.WithDatabase(db);
const out = input.queries.map(({ name, query }) => {
  const code = K.KustoCode.ParseAndAnalyze(query, globals);
  const d = code.GetDiagnostics();
  const errors = [];
  for (let i = 0; i < d.Count; i++) {
    const x = d.getItem(i);
    if (String(x.Severity) === 'Error') errors.push(`${x.Code} ${x.Message} @${x.Start}`);
  }
  const columns = [];
  const rt = code.ResultType;
  if (rt && rt.Columns) {
    for (let i = 0; i < rt.Columns.Count; i++) {
      const c = rt.Columns.getItem(i);
      columns.push(`${c.Name}:${c.Type.Name}`);
    }
  }
  return { name, errors, columns };
});
process.stdout.write(JSON.stringify(out));
