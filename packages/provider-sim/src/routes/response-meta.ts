import type { ResolvedModel } from '../config/parse-simulator-options.js';
import { hashParts } from '../generation/hash.js';
import type { SimulatorState } from '../state/simulator-state.js';

/** The fields every completion object and chunk repeats. */
export interface ResponseMeta {
  id: string;
  /** Epoch seconds. */
  created: number;
  modelId: string;
  systemFingerprint: string;
}

/** Stable per model, like a real deployment's fingerprint between releases. */
export function systemFingerprint(modelId: string): string {
  return `fp_${hashParts(['system_fingerprint', modelId]).toString(16).padStart(8, '0')}`;
}

export function createResponseMeta(state: SimulatorState, model: ResolvedModel, idPrefix: string): ResponseMeta {
  return {
    id: state.ids.next(idPrefix),
    created: Math.floor(state.clock() / 1000),
    modelId: model.id,
    systemFingerprint: systemFingerprint(model.id),
  };
}

/**
 * The serialized start of every chunk of one stream, up to `"choices":`. Chunks differ only in choices and usage,
 * so building the rest by concatenation keeps per-token work to one small JSON.stringify.
 */
export function chunkPrefix(meta: ResponseMeta, object: string): string {
  return (
    `{"id":${JSON.stringify(meta.id)},"object":"${object}","created":${meta.created},` +
    `"model":${JSON.stringify(meta.modelId)},"system_fingerprint":"${meta.systemFingerprint}","choices":`
  );
}
