// The little of dcmjs the tests use to write DICOM fixtures (the package ships no types).
declare module 'dcmjs' {
  const dcmjs: {
    data: {
      DicomMetaDictionary: { denaturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown> };
      DicomDict: new (meta: Record<string, unknown>) => { dict: Record<string, unknown>; write(options?: Record<string, unknown>): ArrayBuffer };
    };
  };
  export default dcmjs;
}
