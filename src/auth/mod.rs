//! Who is calling: SigV4 credentials turned into an [`Identity`] and an account.
//!
//! By default signatures are read but not checked (the emulator trusts its callers, as local
//! tools expect); `--enforce-signatures` verifies each one against the credentials file and
//! answers AWS's signature errors. Either way the access key decides the account: a key listed
//! in the credentials file maps to its account, a 12-digit key is its own account id, anything
//! else lands in the default account.

pub mod regions;
pub mod sigv4;

use std::collections::HashMap;
use std::path::Path;

pub use sigv4::{CredentialScope, SigV4Error, SignatureInfo, SigningInput};

/// The kind of principal, as CloudTrail's `userIdentity.type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    Root,
    IamUser,
    AssumedRole,
    Anonymous,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Root => "Root",
            IdentityKind::IamUser => "IAMUser",
            IdentityKind::AssumedRole => "AssumedRole",
            IdentityKind::Anonymous => "AWSAccount",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub kind: IdentityKind,
    pub account_id: String,
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
    pub arn: String,
    pub principal_id: String,
    /// Region from the credential scope, when signed.
    pub signed_region: Option<String>,
    pub session_token: bool,
}

/// One entry of the credentials file.
#[derive(Debug, Clone)]
struct KnownKey {
    secret_access_key: String,
    account_id: Option<String>,
    user_name: Option<String>,
}

/// The credentials the emulator knows, from an AWS-style INI credentials file.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    keys: HashMap<String, KnownKey>,
    default_account_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read credentials file {0}: {1}")]
    Read(String, std::io::Error),
    #[error("credentials file {file}, profile [{profile}]: {problem}")]
    Invalid {
        file: String,
        profile: String,
        problem: String,
    },
}

/// The pair every local tool defaults to; always known, so `--enforce-signatures` works out of
/// the box with `AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test`.
const BUILT_IN_KEY: (&str, &str) = ("test", "test");

impl Credentials {
    pub fn new(default_account_id: &str) -> Self {
        let mut keys = HashMap::new();
        keys.insert(
            BUILT_IN_KEY.0.to_string(),
            KnownKey {
                secret_access_key: BUILT_IN_KEY.1.to_string(),
                account_id: None,
                user_name: None,
            },
        );
        Credentials {
            keys,
            default_account_id: default_account_id.to_string(),
        }
    }

    /// Reads profiles with `aws_access_key_id`, `aws_secret_access_key` and optionally
    /// `account_id` and `user_name`.
    pub fn load(path: &Path, default_account_id: &str) -> Result<Self, CredentialsError> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| CredentialsError::Read(file.clone(), e))?;
        let mut creds = Self::new(default_account_id);
        let mut profiles: Vec<(String, HashMap<String, String>)> = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                profiles.push((name.trim().to_string(), HashMap::new()));
            } else if let (Some((k, v)), Some((_, fields))) =
                (line.split_once('='), profiles.last_mut())
            {
                fields.insert(k.trim().to_lowercase(), v.trim().to_string());
            }
        }
        for (profile, fields) in profiles {
            let invalid = |problem: &str| CredentialsError::Invalid {
                file: file.clone(),
                profile: profile.clone(),
                problem: problem.to_string(),
            };
            let key = fields
                .get("aws_access_key_id")
                .ok_or_else(|| invalid("missing aws_access_key_id"))?;
            let secret = fields
                .get("aws_secret_access_key")
                .ok_or_else(|| invalid("missing aws_secret_access_key"))?;
            let account_id = fields.get("account_id").cloned();
            if let Some(a) = &account_id {
                if !is_account_id(a) {
                    return Err(invalid("account_id must be 12 digits"));
                }
            }
            creds.keys.insert(
                key.clone(),
                KnownKey {
                    secret_access_key: secret.clone(),
                    account_id,
                    user_name: fields.get("user_name").cloned(),
                },
            );
        }
        Ok(creds)
    }

    /// Every account named in the credentials file, sorted (the console offers them).
    pub fn accounts(&self) -> Vec<String> {
        let mut accounts: Vec<String> = self
            .keys
            .values()
            .filter_map(|k| k.account_id.clone())
            .collect();
        accounts.sort();
        accounts.dedup();
        accounts
    }

    pub fn default_account_id(&self) -> &str {
        &self.default_account_id
    }

    pub fn secret_for(&self, access_key_id: &str) -> Option<&str> {
        self.keys
            .get(access_key_id)
            .map(|k| k.secret_access_key.as_str())
    }

    /// The identity behind a (possibly absent) signature.
    pub fn identify(&self, signature: Option<&SignatureInfo>) -> Identity {
        let Some(signature) = signature else {
            return Identity {
                kind: IdentityKind::Anonymous,
                account_id: self.default_account_id.clone(),
                access_key_id: None,
                user_name: None,
                arn: String::new(),
                principal_id: "anonymous".to_string(),
                signed_region: None,
                session_token: false,
            };
        };
        let key = &signature.scope.access_key_id;
        let known = self.keys.get(key);
        let account_id = known
            .and_then(|k| k.account_id.clone())
            .or_else(|| is_account_id(key).then(|| key.clone()))
            .unwrap_or_else(|| self.default_account_id.clone());
        let user_name = known.and_then(|k| k.user_name.clone());
        let (kind, arn, principal_id) = match &user_name {
            Some(name) => (
                IdentityKind::IamUser,
                format!("arn:aws:iam::{account_id}:user/{name}"),
                format!("AIDA{}", principal_suffix(key)),
            ),
            None => (
                IdentityKind::Root,
                format!("arn:aws:iam::{account_id}:root"),
                account_id.clone(),
            ),
        };
        Identity {
            kind,
            account_id,
            access_key_id: Some(key.clone()),
            user_name,
            arn,
            principal_id,
            signed_region: Some(signature.scope.region.clone()),
            session_token: signature.security_token.is_some(),
        }
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A stable principal id suffix derived from the access key, so a user keeps one id.
fn principal_suffix(access_key_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(access_key_id.as_bytes());
    hex::encode_upper(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_with(key: &str) -> SignatureInfo {
        SignatureInfo {
            scope: CredentialScope {
                access_key_id: key.to_string(),
                date: "20240102".into(),
                region: "eu-west-1".into(),
                service: "monitoring".into(),
            },
            signed_headers: vec!["host".into()],
            signature: "00".into(),
            amz_date: "20240102T000000Z".into(),
            security_token: None,
            presigned: false,
        }
    }

    #[test]
    fn account_comes_from_the_key() {
        let creds = Credentials::new("000000000000");
        assert_eq!(
            creds
                .identify(Some(&signed_with("123456789012")))
                .account_id,
            "123456789012"
        );
        let other = creds.identify(Some(&signed_with("AKIAEXAMPLE")));
        assert_eq!(other.account_id, "000000000000");
        assert_eq!(other.arn, "arn:aws:iam::000000000000:root");
        assert_eq!(other.signed_region.as_deref(), Some("eu-west-1"));
        assert_eq!(creds.identify(None).kind, IdentityKind::Anonymous);
    }

    #[test]
    fn credentials_file_names_users_and_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(
            &path,
            "[alice]\naws_access_key_id = AKIAALICE\naws_secret_access_key = s3cret\naccount_id = 111122223333\nuser_name = alice\n",
        )
        .unwrap();
        let creds = Credentials::load(&path, "000000000000").unwrap();
        let alice = creds.identify(Some(&signed_with("AKIAALICE")));
        assert_eq!(alice.account_id, "111122223333");
        assert_eq!(alice.kind, IdentityKind::IamUser);
        assert_eq!(alice.arn, "arn:aws:iam::111122223333:user/alice");
        assert_eq!(creds.secret_for("AKIAALICE"), Some("s3cret"));
        assert_eq!(creds.secret_for("test"), Some("test"));
        std::fs::write(&path, "[bad]\naws_access_key_id = X\n").unwrap();
        assert!(Credentials::load(&path, "000000000000").is_err());
    }
}
