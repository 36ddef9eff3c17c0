import type { Decider, Event } from '@plugboard/contracts';

/**
 * `given(events).when(command).then(events)` for deciders, without mocks: the past is folded through `evolve`, the
 * command goes through `decide`, and the result is compared with what the rule says must be recorded.
 */
export function deciderSpec<C, E extends Event, S>(decider: Decider<C, E, S>) {
  return {
    given(past: E[] = []) {
      const state = past.reduce(decider.evolve, decider.initialState());
      return {
        when(command: C) {
          const run = () => decider.decide(command, state);
          return {
            then(expected: E[]) {
              expect(run()).toEqual(expected);
            },
            thenFails(match: { code?: string; message?: RegExp }) {
              let error: unknown;
              try {
                run();
              } catch (caught) {
                error = caught;
              }
              expect(error).toBeDefined();
              if (match.code) expect(error).toMatchObject({ code: match.code });
              if (match.message) expect((error as Error).message).toMatch(match.message);
            },
          };
        },
      };
    },
  };
}
