/**
 * Names a plain object answers from Object.prototype. Every lookup keyed by a client's string (a model, a key's
 * allowed models, a strategy header) must find nothing for them, never an inherited member.
 */
export const PROTOTYPE_MEMBER_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupSetter__',
] as const;
