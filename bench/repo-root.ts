import { fileURLToPath } from 'node:url';

/** The repository root, as the local stack resolves handler entries and as CPU profiles name files. */
export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
