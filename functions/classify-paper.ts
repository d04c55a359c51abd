// Placeholder until the pipeline issue lands its handler here.
export const handler = async (): Promise<void> => {};
