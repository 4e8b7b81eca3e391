/** Small key/value facts about the installation itself, e.g. that first-start bootstrap ran. */
export interface AppMetaTable {
  key: string;
  value: string;
}
