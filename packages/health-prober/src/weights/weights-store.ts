import type { DeploymentHealth, WeightsDocument } from '@dosrouter/shared';
import { nextWeightsDocument } from './next-document.js';

/** What the prober keeps between steps: each deployment's health record, and the last table published. */
export interface WeightsState {
  readonly health: ReadonlyMap<string, DeploymentHealth>;
  readonly document: WeightsDocument | undefined;
}

export interface WeightsUpdate {
  /** The table as published by this update. */
  readonly document: WeightsDocument;
  /** Whether the table's weights or states changed (and it was announced). */
  readonly changed: boolean;
  readonly previous: ReadonlyMap<string, DeploymentHealth>;
  readonly health: ReadonlyMap<string, DeploymentHealth>;
}

/** A step: from the state as read, the next health record of every configured deployment (others are dropped). */
export type WeightsStep = (state: WeightsState) => ReadonlyMap<string, DeploymentHealth>;

/**
 * Where health records and the published table live. `update` is atomic against every other prober sharing the
 * store: a step computed from a state someone else has since changed is computed again from the new state.
 */
export interface WeightsStore {
  update(step: WeightsStep, now: number): Promise<WeightsUpdate>;
  /** The last published table, or undefined before the first. */
  read(): Promise<WeightsDocument | undefined>;
}

/** Embedded mode: one process, so a plain object is the store; `onPublish` hands each table to the gateway. */
export class MemoryWeightsStore implements WeightsStore {
  private state: WeightsState = { health: new Map(), document: undefined };

  constructor(private readonly onPublish: (update: WeightsUpdate) => void = () => undefined) {}

  async update(step: WeightsStep, now: number): Promise<WeightsUpdate> {
    // Synchronous from read to write: no other step can interleave within one process.
    const previous = this.state;
    const health = step(previous);
    const { document, changed } = nextWeightsDocument(previous.document, health, now, (previous.document?.generation ?? 0) + 1);
    this.state = { health, document };
    const update = { document, changed, previous: previous.health, health };
    this.onPublish(update);
    return update;
  }

  async read(): Promise<WeightsDocument | undefined> {
    return this.state.document;
  }
}
