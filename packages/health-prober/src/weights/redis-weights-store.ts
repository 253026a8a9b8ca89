import {
  parseDeploymentHealth,
  parseWeightsDocument,
  serializeWeightsDocument,
  type DeploymentHealth,
  type RedisClient,
  type RedisKeys,
  type ScriptCommands,
  type WeightsDocument,
} from '@dosrouter/shared';
import { nextWeightsDocument } from './next-document.js';
import type { WeightsState, WeightsStep, WeightsStore, WeightsUpdate } from './weights-store.js';

/** Conflicts in a row before an update gives up; each means another prober wrote in between, so this is generous. */
const MAX_ATTEMPTS = 30;
/** After a conflict, wait up to this many ms per attempt so far (jittered): a prober with a burst of steps to write must not starve another. */
const BACKOFF_STEP_MS = 4;

export class WeightsConflictError extends Error {
  constructor() {
    super(`the weights table kept changing under this prober: gave up after ${MAX_ATTEMPTS} attempts`);
  }
}

/**
 * Health records and the weights table in Redis, shared by every prober. An update reads the records, the table
 * and a revision counter in one MULTI, computes, and writes with the `publishWeights` script, which refuses the
 * write if the revision moved (another prober wrote meanwhile); the step is then computed again from fresh state.
 * Steps of one process run one at a time, so they never conflict with each other.
 */
export class RedisWeightsStore implements WeightsStore {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: RedisClient & ScriptCommands,
    private readonly keys: RedisKeys,
  ) {}

  update(step: WeightsStep, now: number): Promise<WeightsUpdate> {
    const run = this.tail.then(() => this.transact(step, now));
    this.tail = run.catch(() => undefined);
    return run;
  }

  async read(): Promise<WeightsDocument | undefined> {
    const text = await this.redis.get(this.keys.weightsDocument());
    return text === null ? undefined : parseWeightsDocument(text);
  }

  private async transact(step: WeightsStep, now: number): Promise<WeightsUpdate> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const { revision, state } = await this.readState();
      const health = step(state);
      // The script moves the revision to revision + 1 when it writes: that is this table's generation.
      const { document, changed } = nextWeightsDocument(state.document, health, now, revision + 1);
      const serialized = serializeWeightsDocument(document);
      const pairs = [...health].flatMap(([id, record]) => [id, JSON.stringify(record)]);
      const removed = [...state.health.keys()].filter((id) => !health.has(id));
      const written = await this.redis.dosrouterPublishWeightsV1(
        3,
        this.keys.weightsHealth(),
        this.keys.weightsDocument(),
        this.keys.weightsRevision(),
        revision,
        serialized,
        changed ? this.keys.weightsChannel() : '',
        health.size,
        ...pairs,
        ...removed,
      );
      if (written !== -1) return { document, changed, previous: state.health, health };
      await new Promise((resolve) => setTimeout(resolve, Math.random() * BACKOFF_STEP_MS * (attempt + 1)));
    }
    throw new WeightsConflictError();
  }

  private async readState(): Promise<{ revision: number; state: WeightsState }> {
    const replies = await this.redis
      .multi()
      .get(this.keys.weightsRevision())
      .hgetall(this.keys.weightsHealth())
      .get(this.keys.weightsDocument())
      .exec();
    if (replies === null) throw new Error('the weights read was aborted');
    for (const [error] of replies) if (error) throw error;
    const [[, revision], [, fields], [, documentText]] = replies as [
      [null, string | null],
      [null, Record<string, string>],
      [null, string | null],
    ];
    const health = new Map<string, DeploymentHealth>();
    for (const [id, text] of Object.entries(fields)) {
      const record = parseRecord(text);
      // A record this release cannot read starts afresh (healthy at its configured weight) rather than failing the step.
      if (record !== undefined) health.set(id, record);
    }
    const document = documentText === null ? undefined : parseWeightsDocument(documentText);
    return { revision: Number(revision ?? 0), state: { health, document } };
  }
}

function parseRecord(text: string): DeploymentHealth | undefined {
  try {
    return parseDeploymentHealth(JSON.parse(text));
  } catch {
    return undefined;
  }
}
