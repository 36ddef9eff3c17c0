import { observe, outcomeOf, registry } from './metrics';

describe('metrics', () => {
  it('adds up a tally kept by several instances of an app, and forgets one that stopped', async () => {
    let a = 2;
    const stopA = observe('counter', 'plugboard_test_things_total', 'Things.', ['kind'], () => [{ labels: { kind: 'x' }, value: a }]);
    observe('counter', 'plugboard_test_things_total', 'Things.', ['kind'], () => [{ labels: { kind: 'x' }, value: 3 }]);
    expect(await registry.getSingleMetricAsString('plugboard_test_things_total')).toContain('plugboard_test_things_total{kind="x"} 5');
    a = 4;
    expect(await registry.getSingleMetricAsString('plugboard_test_things_total')).toContain('plugboard_test_things_total{kind="x"} 7');
    stopA();
    expect(await registry.getSingleMetricAsString('plugboard_test_things_total')).toContain('plugboard_test_things_total{kind="x"} 3');
  });

  it('labels an outcome by status class, or by the error code that ended the call', () => {
    expect(outcomeOf(204, null)).toBe('2xx');
    expect(outcomeOf(503, null)).toBe('5xx');
    expect(outcomeOf(null, 'upstream_timeout')).toBe('upstream_timeout');
    expect(outcomeOf(null, null)).toBe('internal_error');
  });

  it('exposes the process’s own metrics under the plugboard_ prefix', async () => {
    expect(await registry.metrics()).toMatch(/^plugboard_process_cpu_seconds_total \S+$/m);
  });
});
