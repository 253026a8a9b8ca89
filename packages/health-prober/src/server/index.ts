export { startProberServer, BULL_BOARD_PATH } from './prober-server.js';
export type { ProberServer, ProberServerOptions } from './prober-server.js';
export { ADMIN_CHALLENGE, ADMIN_REALM, createAdminKeyCheck, presentedCredential } from './admin-auth.js';
export type { PresentedCredential } from './admin-auth.js';
