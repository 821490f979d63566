export declare const LAYERS: ReadonlyArray<{ layer: number; folders: string[]; what: string }>;
export declare const LAYER_OF: ReadonlyMap<string, number>;
