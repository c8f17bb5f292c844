/** Where the status API is mounted. */
export const API_BASE_PATH = '/api/v1';
