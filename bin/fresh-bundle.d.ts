export declare const MANIFEST: string;
export declare const BUNDLE_DIR: string;
export declare function watchedFiles(sources: string[]): string[];
export declare function freshBundle(root: string, dir?: string): string | null;
