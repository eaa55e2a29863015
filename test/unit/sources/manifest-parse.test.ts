import { expect } from 'chai';
import { formatProblem, parseManifest } from '../../../lib/sources/manifest-parse.js';

describe('sources/manifest-parse', () => {
  it('reads multi-document YAML: Services, EndpointSlices and Endpoints, default namespace', () => {
    const text = [
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: a}',
      'spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}',
      '---',
      '# only a comment',
      '---',
      'apiVersion: discovery.k8s.io/v1',
      'kind: EndpointSlice',
      'metadata: {name: a-1, namespace: prod, labels: {kubernetes.io/service-name: a}}',
      'addressType: IPv4',
      'endpoints: []',
      '---',
      'apiVersion: v1',
      'kind: Endpoints',
      'metadata: {name: a}',
      'subsets: []',
    ].join('\n');
    const r = parseManifest(text, 'x.yaml');
    expect(r.ok).to.equal(true);
    expect(r.problems).to.deep.equal([]);
    expect(r.objects.map((o) => `${o.kind} ${o.namespace}/${o.name} @${o.line}`)).to.deep.equal([
      'Service default/a @1',
      'EndpointSlice prod/a-1 @8',
      'Endpoints default/a @14',
    ]);
    expect((r.objects[0]?.object.metadata as { namespace: string }).namespace).to.equal('default');
  });

  it('expands a List (kubectl get -o yaml) and names item lines', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- apiVersion: v1',
      '  kind: Service',
      '  metadata: {name: one}',
      '- apiVersion: v1',
      '  kind: Service',
      '  metadata: {name: two}',
    ].join('\n');
    const r = parseManifest(text, 'list.yaml');
    expect(r.objects.map((o) => `${o.name}@${o.line}`)).to.deep.equal(['one@4', 'two@7']);
  });

  it('a YAML syntax error names file, line and column, and yields no objects', () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: [a\n';
    const r = parseManifest(text, 'dir/bad.yaml');
    expect(r.ok).to.equal(false);
    expect(r.objects).to.deep.equal([]);
    expect(r.problems[0]?.severity).to.equal('error');
    expect(r.problems[0]?.line).to.be.greaterThan(0);
    const first = r.problems[0];
    if (!first) throw new Error('no problem reported');
    expect(formatProblem(first)).to.match(/^dir\/bad\.yaml:\d+:\d+: error: /);
  });

  it('rejects known kinds with a wrong apiVersion or no name, at the document line', () => {
    const r = parseManifest(
      'kind: Service\napiVersion: v1\nmetadata: {name: ok}\n---\nkind: EndpointSlice\napiVersion: discovery.k8s.io/v1beta1\nmetadata: {name: x}\n',
      'f.yaml',
    );
    expect(r.ok).to.equal(false);
    expect(r.problems).to.deep.equal([
      {
        file: 'f.yaml',
        line: 5,
        column: 1,
        severity: 'error',
        message:
          'EndpointSlice must have apiVersion discovery.k8s.io/v1, found "discovery.k8s.io/v1beta1"',
      },
    ]);
    const r2 = parseManifest('kind: Service\napiVersion: v1\nmetadata: {namespace: x}\n', 'g.yaml');
    expect(r2.problems[0]?.message).to.equal('Service without metadata.name');
    const r3 = parseManifest(
      'kind: Service\napiVersion: v1\nmetadata: {name: Bad_Name}\n',
      'h.yaml',
    );
    expect(r3.problems[0]?.message).to.match(/not a valid DNS subdomain/);
  });

  it('ignores other kinds with a warning, and the file is still good', () => {
    const r = parseManifest(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n',
      'd.yaml',
    );
    expect(r.ok).to.equal(true);
    expect(r.objects).to.deep.equal([]);
    expect(r.problems).to.have.length(1);
    expect(r.problems[0]).to.include({ severity: 'warning', line: 1 });
  });

  it('reads JSON too', () => {
    const r = parseManifest(
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"j"}}',
      'j.json',
    );
    expect(r.objects.map((o) => o.name)).to.deep.equal(['j']);
  });

  const svc = (name: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\n`;

  it('a bad document drops only itself, with its line; the other documents are kept', () => {
    const bad = [
      // A YAML syntax error (a nested mapping in a compact one) and a validation error.
      'apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: type: x: y\n',
      'apiVersion: v1\nkind: Service\nmetadata: {name: Not_Valid}\n',
    ];
    for (const middle of bad) {
      const r = parseManifest(`${svc('a')}---\n${middle}---\n${svc('c')}`, 'f.yaml');
      expect(r.ok).to.equal(false);
      expect(r.objects.map((o) => `${o.name}@${o.line}`)).to.deep.equal([
        'a@1',
        `c@${5 + middle.split('\n').length}`,
      ]);
      expect(r.problems).to.not.deep.equal([]);
      for (const p of r.problems) {
        expect(p).to.include({ severity: 'error', file: 'f.yaml' });
        expect(p.line).to.be.within(5, 8);
      }
    }
  });

  it('an alias bomb or an unresolved alias is an error of its document, not a crash', () => {
    const bomb =
      'apiVersion: v1\nkind: Service\nmetadata: {name: boom}\nspec:\n' +
      '  a: &a [x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n' +
      '  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n' +
      '  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n';
    const unresolved = 'apiVersion: v1\nkind: Service\nmetadata: {name: *nope}\n';
    for (const [doc, message] of [
      [bomb, /alias/i],
      [unresolved, /alias.*nope/i],
    ] as const) {
      const r = parseManifest(`${svc('a')}---\n${doc}`, 'bomb.yaml');
      expect(r.objects.map((o) => o.name)).to.deep.equal(['a']);
      expect(r.problems).to.have.length(1);
      expect(r.problems[0]).to.include({ file: 'bomb.yaml', line: 5, severity: 'error' });
      expect(r.problems[0]?.message).to.match(message);
    }
  });

  it("the YAML library's warnings become located warnings, never process warnings", async () => {
    const emitted: unknown[] = [];
    const onWarning = (w: unknown) => emitted.push(w);
    process.on('warning', onWarning);
    const realWarn = console.warn;
    console.warn = (...a: unknown[]) => emitted.push(a);
    try {
      const r = parseManifest(
        `${svc('a')}spec:\n  selector:\n    ? [x, y]\n    : z\n  type: !weird ClusterIP\n`,
        'w.yaml',
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(r.ok).to.equal(true);
      expect(r.objects.map((o) => o.name)).to.deep.equal(['a']);
      expect(r.problems.map((p) => `${p.line}:${p.column} ${p.severity}`)).to.deep.equal([
        '6:7 warning',
        '8:9 warning',
      ]);
      expect(r.problems[0]?.message).to.match(/key .*mapping or a list/);
      expect(r.problems[1]?.message).to.match(/!weird/);
    } finally {
      process.off('warning', onWarning);
      console.warn = realWarn;
    }
    expect(emitted).to.deep.equal([]);
  });

  it('a missing apiVersion is called missing', () => {
    const r = parseManifest('kind: Service\nmetadata: {name: a}\n', 'f.yaml');
    expect(r.problems[0]?.message).to.equal(
      'Service must have apiVersion v1; apiVersion is missing',
    );
  });

  it('YAML merge keys (<<) work, as in kubectl', () => {
    const r = parseManifest(
      'apiVersion: v1\nkind: Service\nmetadata:\n  <<: {name: merged, namespace: prod}\n',
      'm.yaml',
    );
    expect(r.problems).to.deep.equal([]);
    expect(r.objects.map((o) => `${o.namespace}/${o.name}`)).to.deep.equal(['prod/merged']);
  });
});
