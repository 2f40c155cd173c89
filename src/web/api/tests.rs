//! Tokens, authors, attachments and field values as the API reads them.

use sha2::{Digest, Sha256};

use super::auth::bearer;
use super::*;
use crate::config::ApiToken;

fn token(name: &str, secret: &str) -> ApiToken {
    ApiToken {
        name: name.into(),
        sha256: Sha256::digest(secret.as_bytes()).into(),
    }
}

#[test]
fn constant_time_comparison() {
    let a = [7u8; 32];
    let mut b = a;
    assert!(constant_time_eq(&a, &b));
    b[31] ^= 1;
    assert!(!constant_time_eq(&a, &b));
    b = a;
    b[0] = 0;
    assert!(!constant_time_eq(&a, &b));
}

#[test]
fn tokens_are_found_by_their_hash() {
    let tokens = [token("ci", "s3cret-one"), token("desk", "s3cret-two")];
    assert_eq!(token_name(&tokens, "s3cret-two"), Some("desk"));
    assert_eq!(token_name(&tokens, "s3cret-one"), Some("ci"));
    assert_eq!(token_name(&tokens, "s3cret-three"), None);
    assert_eq!(token_name(&tokens, ""), None);
    assert_eq!(token_name(&[], "s3cret-one"), None);
}

#[test]
fn bearer_headers() {
    assert_eq!(bearer("Bearer abc"), Some("abc"));
    assert_eq!(bearer("bearer   abc "), Some("abc"));
    assert_eq!(bearer("Basic abc"), None);
    assert_eq!(bearer("Bearer "), None);
    assert_eq!(bearer("Bearer"), None);
}

#[test]
fn authors() {
    let caller = Caller("desk".into());
    assert_eq!(actor(&caller, None).unwrap(), "api:desk");
    assert_eq!(
        actor(&caller, Some("Alice@Vendor.example")).unwrap(),
        "alice@vendor.example"
    );
    for bad in [
        "alice",
        "alice@localhost",
        "a b@x.fr",
        "<a@x.fr>",
        "a@x.fr, b@y.fr",
        "a@@x.fr",
        "@x.fr",
        "a@.x.fr",
        "a@x..fr",
        "a@x.fr\r\nBcc: c@d.fr",
    ] {
        assert!(actor(&caller, Some(bad)).is_err(), "{bad:?}");
    }
}

#[test]
fn attachments_from_json() {
    let file = NewAttachment {
        filename: "../../etc/logs.txt".into(),
        content_type: Some("Text/Plain; charset=utf-8".into()),
        content_base64: "aGVs\nbG8=".into(),
    };
    let a = attachment(0, &file).unwrap();
    assert_eq!(a.filename, "logs.txt");
    assert_eq!(a.content_type, "text/plain");
    assert_eq!(a.data, b"hello");
    assert_eq!(a.size, 5);
    assert_eq!(a.sha256, intake::sha256_hex(b"hello"));

    let unnamed = NewAttachment {
        filename: "..".into(),
        content_type: None,
        content_base64: String::new(),
    };
    assert_eq!(
        attachment(1, &unnamed).unwrap().filename,
        "attachment-2.bin"
    );

    let bad = NewAttachment {
        filename: "x".into(),
        content_type: None,
        content_base64: "not base64!".into(),
    };
    assert_eq!(
        attachment(0, &bad).unwrap_err().status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bad_type = NewAttachment {
        filename: "x".into(),
        content_type: Some("text/html\r\nX: y".into()),
        content_base64: String::new(),
    };
    assert!(attachment(0, &bad_type).is_err());
}
