// bench/variants.ts: every HAProxy variant of the bench is Fulcrum's rendered config plus its own lines, and HAProxy 2.6
// accepts it without a warning (a variant HAProxy ignored or refused would measure nothing).
import assert from 'node:assert/strict';
import test from 'node:test';
import { applyVariant, renderedConfig, VARIANTS } from '../../bench/variants.js';
import { check } from '../fixtures/haproxy-check.js';

const base = renderedConfig('/@RUN@', ['127.0.0.11', '127.0.0.12'], 8080, { http: 18080, tcp: 18081 });

test('the base is the config as rendered, unchanged', () => {
  assert.equal(applyVariant(base, VARIANTS[0]), base);
  assert.match(base, /^frontend fe_http\n {2}mode http\n {2}bind 127\.0\.0\.1:18080$/m);
  assert.match(base, /^ {2}server \S+ 127\.0\.0\.12:8080 id 2 check inter 3000ms/m);
});

for (const v of VARIANTS.slice(1)) {
  test(`variant ${v.key}: its lines in their sections, and haproxy -c accepts it without warnings`, () => {
    const cfg = applyVariant(base, v);
    const section = (name: string) => cfg.slice(cfg.indexOf(`\n${name}\n`)).split('\n\n')[0].split('\n');
    // Last in their section: a `no option` undoes the rendered option above it.
    for (const [name, lines] of [['global', v.global], ['defaults', v.defaults]] as const) {
      if (lines?.length) assert.deepEqual(section(name).slice(-lines.length), lines.map((l) => `  ${l}`), `${lines} end ${name}`);
    }
    assert.equal(cfg.split('\n').length, base.split('\n').length + (v.global?.length ?? 0) + (v.defaults?.length ?? 0));
    const r = check(cfg);
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(r.alerts, []);
    assert.deepEqual(r.warnings, []);
  });
}

test('a config without the section a variant needs is refused, not measured as the base', () => {
  const splice = VARIANTS.find((v) => v.defaults?.length)!;
  assert.throws(() => applyVariant(base.replace('\ndefaults\n', '\n'), splice), /no defaults section/);
});
