//! The regions AWS serves, for the credential scope of a signed request.
//!
//! A scope's region becomes a data partition here (every resource is keyed by account and
//! region), so a typo or an invented region would silently open an empty one. AWS refuses such
//! a request instead ("Credential should be scoped to a valid region"); so does the emulator,
//! against the region list of the partitions the AWS SDKs ship (`aws`, `aws-cn`, `aws-us-gov`,
//! `aws-eusc`, and the isolated `aws-iso*` partitions), as of the SDK versions this project
//! builds with. A region AWS opens later needs a line here.

/// Every region of every AWS partition.
pub const REGIONS: [&str; 46] = [
    // aws
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    // aws-cn
    "cn-north-1",
    "cn-northwest-1",
    // aws-us-gov
    "us-gov-east-1",
    "us-gov-west-1",
    // aws-eusc
    "eusc-de-east-1",
    // aws-iso, aws-iso-b, aws-iso-e, aws-iso-f
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "eu-isoe-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
];

/// Whether `region` is one AWS serves.
pub fn is_known(region: &str) -> bool {
    REGIONS.contains(&region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_regions_only() {
        for region in [
            "us-east-1",
            "eu-west-1",
            "ap-southeast-7",
            "cn-north-1",
            "us-gov-west-1",
        ] {
            assert!(is_known(region), "{region}");
        }
        for region in ["us-east-9", "US-EAST-1", "moon-1", "", "us-east-1 "] {
            assert!(!is_known(region), "{region:?}");
        }
    }
}
