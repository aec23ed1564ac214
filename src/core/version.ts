/** The version of Tessera, reported by `tessera --version`, `/health` and OpenAPI documents. */
export const TESSERA_VERSION = '0.1.0';
