export { TIERS, isTier, tierRank } from './tiers.js';
export type { Tier } from './tiers.js';
export { classifyRequest } from './classify.js';
export type { Classification, ClassificationSignal } from './classify.js';
export {
  DEFAULT_CLASSIFIER_SETTINGS,
  createClassifierSettings,
  classifierSettingsProblem,
} from './classifier-options.js';
export type { ClassifierOptions, ClassifierSettings, TierBoundaries } from './classifier-options.js';
export { DIMENSION_NAMES, DEFAULT_DIMENSION_WEIGHTS } from './dimensions.js';
export type { DimensionName, DimensionWeights } from './dimensions.js';
export { estimateTokens } from './estimate-tokens.js';
export { estimatePromptTokens } from './request-text.js';
export type { ClassifierInput, ClassifierMessage, ClassifierContentPart } from './request-text.js';
export { VIRTUAL_MODELS, isVirtualModel, modelsForTier } from './profiles.js';
export type { TierProfile, TierProfiles, VirtualModel } from './profiles.js';
