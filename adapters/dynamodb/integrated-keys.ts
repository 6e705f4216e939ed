/**
 * Partition-key prefixes of the integrated table's working items (everything but records,
 * leases and sequences), shared by the stores that build the keys and by the constructs that
 * grant writes to them only (IAM `dynamodb:LeadingKeys`), so a grant cannot drift from the keys
 * the code writes: IAM is not enforced on the local runtime, and a drift would show on AWS only.
 */
export const INTEGRATED_KEY_PREFIXES = {
  /** A dataset's subscriptions: `SUB#<datasetId>`. */
  subscription: "SUB#",
  /** A consumer system's inbox: `INBOX#<systemId>`. */
  inbox: "INBOX#",
  /** A batch's deliveries, one item per message: `DELIVERY#<provider>/<batchId>`. */
  delivery: "DELIVERY#",
  /** A sync batch and its counts: `BATCH#<provider>/<batchId>`. */
  batch: "BATCH#",
  /** An export job: `EXPORT#<exportId>`. */
  export: "EXPORT#",
} as const;
