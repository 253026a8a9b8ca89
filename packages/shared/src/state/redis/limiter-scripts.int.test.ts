import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testRedis, type TestRedis } from '../../test-support/redis.js';
import { redisFailureKind } from './redis-failure.js';

/**
 * The limiter's scripts called directly, as a caller with a bug would: every argument that is not a whole number in
 * its range is refused with a BADARG error reply, before any key is written.
 */
describe('the limiter scripts refuse bad arguments', () => {
  let test: TestRedis;
  beforeEach(async () => {
    test = await testRedis('scripts');
  });
  afterEach(() => test.cleanup());

  const badNumbers = ['1.5', '-1000', 'NaN', 'inf', '1e3', '0x10', '', ' 5', '99999999999999999999'];

  async function keysWritten(): Promise<string[]> {
    return test.redis.keys(`${test.prefix}:*`);
  }

  async function refusal(call: Promise<unknown>): Promise<string> {
    const error = await call.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error, 'the script accepted its arguments').toBeInstanceOf(Error);
    expect(redisFailureKind(error)).toBe('rejected');
    return (error as Error).message;
  }

  describe('admitRequest', () => {
    const keys = () => [test.keys.admissionRecord('r1'), test.keys.limitWindow('key:k'), test.keys.limitLeases('key:k'), test.keys.limitWindow('deployment:a'), test.keys.limitLeases('deployment:a')];
    // mode, request id, admission number, estimate, window, lease, record TTL, then rpm/tpm/concurrency per scope.
    const good = ['1', 'r1', '0', '40', '60000', '30000', '60000', '10', '1000', '2', '0', '0', '0'];
    const admit = (argumentsList: string[]) => test.redis.dosrouterAdmitRequestV3(5, ...keys(), ...argumentsList);

    it('admits with good arguments', async () => {
      expect(((await admit(good)) as number[])[0]).toBe(1);
    });

    for (const [index, name] of [[2, 'admission number'], [3, 'estimated tokens'], [4, 'window length'], [7, 'requests per minute'], [8, 'tokens per minute'], [9, 'concurrency']] as const) {
      it(`refuses a bad ${name} and stores nothing`, async () => {
        for (const value of badNumbers) {
          const argumentsList = [...good];
          argumentsList[index] = value;
          expect(await refusal(admit(argumentsList))).toMatch(new RegExp(`^BADARG ${name} `));
        }
        expect(await keysWritten()).toEqual([]);
      });
    }

    it('refuses a bad mode, an empty request id and keys that do not match the arguments', async () => {
      expect(await refusal(admit(['3', ...good.slice(1)]))).toMatch(/^BADARG mode/);
      expect(await refusal(admit([good[0]!, '', ...good.slice(2)]))).toMatch(/^BADARG request id/);
      expect(await refusal(admit(good.slice(0, -1)))).toMatch(/^BADARG the keys and arguments do not match/);
      expect(await keysWritten()).toEqual([]);
    });

    it('refuses a budget that is not a whole number from -1', async () => {
      const budgetKeys = [...keys(), test.keys.spend('k', '2026-01-01'), test.keys.spend('k', '2026-01')];
      const withBudget = (daily: string) => test.redis.dosrouterAdmitRequestV3(7, ...budgetKeys, '2', ...good.slice(1), daily, '-1');
      expect(await refusal(withBudget('-2'))).toMatch(/^BADARG daily budget/);
      expect(await refusal(withBudget('0.5'))).toMatch(/^BADARG daily budget/);
      expect(await keysWritten()).toEqual([]);
    });
  });

  describe('releaseRequest', () => {
    const keys = () => [test.keys.admissionRecord('r1'), test.keys.limitWindow('key:k'), test.keys.limitLeases('key:k')];
    const release = (argumentsList: string[]) => test.redis.dosrouterReleaseRequestV2(3, ...keys(), ...argumentsList);

    it('refuses a token correction or window start that is not a whole number, and a bad concurrency flag', async () => {
      await test.redis.hset(test.keys.limitWindow('key:k'), 'start', '1000', 'requests', '1', 'tokens', '50');
      for (const value of ['1.5', 'NaN', '', '1e3']) expect(await refusal(release(['r1', value, '1000', '1']))).toMatch(/^BADARG token correction/);
      expect(await refusal(release(['r1', '-10', '-1', '1']))).toMatch(/^BADARG window start/);
      expect(await refusal(release(['r1', '-10', '1000', 'yes']))).toMatch(/^BADARG concurrency flag/);
      expect(await refusal(release(['', '-10', '1000', '1']))).toMatch(/^BADARG request id/);
      expect(await test.redis.hgetall(test.keys.limitWindow('key:k'))).toEqual({ start: '1000', requests: '1', tokens: '50' });
      expect(await release(['r1', '-10', '1000', '1'])).toBe(1);
      expect(await test.redis.hget(test.keys.limitWindow('key:k'), 'tokens')).toBe('40');
    });
  });

  describe('cancelAdmission', () => {
    const keys = () => [test.keys.admissionRecord('r1'), test.keys.limitWindow('key:k'), test.keys.limitLeases('key:k')];
    const cancel = (argumentsList: string[]) => test.redis.dosrouterCancelAdmissionV1(3, ...keys(), ...argumentsList);

    it('refuses a bad admission number, key flag or TTL and writes no tombstone', async () => {
      for (const value of badNumbers) expect(await refusal(cancel(['r1', value, '1', '60000']))).toMatch(/^BADARG admission number/);
      expect(await refusal(cancel(['r1', '0', '2', '60000']))).toMatch(/^BADARG key flag/);
      expect(await refusal(cancel(['r1', '0', '1', '0']))).toMatch(/^BADARG tombstone TTL/);
      expect(await refusal(cancel(['', '0', '1', '60000']))).toMatch(/^BADARG request id/);
      expect(await keysWritten()).toEqual([]);
      expect(await cancel(['r1', '0', '1', '60000'])).toBe(0);
      expect(await test.redis.hget(test.keys.admissionRecord('r1'), '0')).toBe('cancelled');
    });
  });
});
