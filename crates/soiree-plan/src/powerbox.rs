//! Powerbox descriptors as a grain's web page passes them to `powerboxRequest`: a packed
//! `PowerboxDescriptor` message, base64url-encoded.

use capnp::message::{Builder, HeapAllocator, ReaderOptions};
use soiree_party::{Interface, Request};
use soiree_schema::interface_ids;
use soiree_schema::powerbox_capnp::{api_session_tag, ip_network_tag, powerbox_descriptor};

/// One encoded request, as listed in `/opt/soiree/powerbox.json` and `--message-format json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EncodedRequest {
    pub name: String,
    pub interface: &'static str,
    pub type_id: String,
    pub descriptor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

pub fn type_id(interface: Interface) -> u64 {
    match interface {
        Interface::ApiSession => interface_ids::API_SESSION,
        Interface::IpInterface => interface_ids::IP_INTERFACE,
        Interface::IpNetwork => interface_ids::IP_NETWORK,
    }
}

/// The descriptor message for a request: one tag, the interface's type id, and for an
/// ApiSession its canonical URL (or for an IpNetwork its encryption) as the tag value.
pub fn descriptor_message(
    interface: Interface,
    canonical_url: Option<&str>,
    tls: Option<bool>,
) -> Builder<HeapAllocator> {
    let mut b = Builder::new_default();
    {
        let root = b.init_root::<powerbox_descriptor::Builder>();
        let mut tag = root.init_tags(1).get(0);
        tag.set_id(type_id(interface));
        match (interface, canonical_url, tls) {
            (Interface::ApiSession, Some(url), _) => {
                tag.init_value()
                    .init_as::<api_session_tag::Builder>()
                    .set_canonical_url(url);
            }
            (Interface::IpNetwork, _, Some(tls)) => {
                let mut enc = tag
                    .init_value()
                    .init_as::<ip_network_tag::Builder>()
                    .init_encryption();
                if tls {
                    enc.set_tls(());
                } else {
                    enc.set_none(());
                }
            }
            _ => {}
        }
    }
    b
}

/// Packed and base64url-encoded (no padding), the form `powerboxRequest` takes.
pub fn encode(message: &Builder<HeapAllocator>) -> String {
    let mut packed = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = capnp::serialize_packed::write_message(&mut packed, message);
    data_encoding::BASE64URL_NOPAD.encode(&packed)
}

pub fn encode_request(r: &Request) -> EncodedRequest {
    let msg = descriptor_message(r.interface, r.canonical_url.as_deref(), r.tls);
    EncodedRequest {
        name: r.name.clone(),
        interface: r.interface.name(),
        type_id: format!("{:#018x}", type_id(r.interface)),
        descriptor: encode(&msg),
        canonical_url: r.canonical_url.clone(),
        label: r.label.clone(),
    }
}

/// What a descriptor string says, for `soiree-pack descriptor DECODE`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DecodedTag {
    pub id: String,
    pub interface: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decoded {
    pub tags: Vec<DecodedTag>,
    pub quality: &'static str,
}

/// Decodes a descriptor string (base64url or standard base64, packed message).
pub fn decode(text: &str) -> Result<Decoded, String> {
    let bytes = soiree_spk::ids::decode_base64(text).map_err(|e| format!("not base64: {e}"))?;
    let mut opts = ReaderOptions::new();
    opts.traversal_limit_in_words(Some(1 << 16));
    let msg = capnp::serialize_packed::read_message(&mut &bytes[..], opts)
        .map_err(|e| format!("not a packed message: {e}"))?;
    let root = msg
        .get_root::<powerbox_descriptor::Reader>()
        .map_err(|e| e.to_string())?;
    let quality = match root.get_quality() {
        Ok(powerbox_descriptor::MatchQuality::Acceptable) => "acceptable",
        Ok(powerbox_descriptor::MatchQuality::Preferred) => "preferred",
        Ok(powerbox_descriptor::MatchQuality::Unacceptable) => "unacceptable",
        Err(_) => "unknown",
    };
    let mut tags = Vec::new();
    for tag in root.get_tags().map_err(|e| e.to_string())? {
        let id = tag.get_id();
        let interface = [
            Interface::ApiSession,
            Interface::IpInterface,
            Interface::IpNetwork,
        ]
        .into_iter()
        .find(|i| type_id(*i) == id)
        .map(Interface::name);
        let value = tag.get_value();
        let mut canonical_url = None;
        let mut encryption = None;
        if !value.is_null() {
            if id == interface_ids::API_SESSION {
                let v = value
                    .get_as::<api_session_tag::Reader>()
                    .map_err(|e| e.to_string())?;
                if v.has_canonical_url() {
                    canonical_url = Some(
                        v.get_canonical_url()
                            .map_err(|e| e.to_string())?
                            .to_string()
                            .map_err(|e| e.to_string())?,
                    );
                }
            } else if id == interface_ids::IP_NETWORK {
                let v = value
                    .get_as::<ip_network_tag::Reader>()
                    .map_err(|e| e.to_string())?;
                if v.has_encryption() {
                    encryption = match v.get_encryption().map_err(|e| e.to_string())?.which() {
                        Ok(ip_network_tag::encryption::None(())) => Some("none"),
                        Ok(ip_network_tag::encryption::Tls(())) => Some("tls"),
                        Err(_) => Some("unknown"),
                    };
                }
            }
        }
        tags.push(DecodedTag {
            id: format!("{id:#018x}"),
            interface,
            canonical_url,
            encryption,
        });
    }
    Ok(Decoded { tags, quality })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_each_interface() {
        for (i, url, tls) in [
            (
                Interface::ApiSession,
                Some("https://v-sekai.org/uro/api/v1"),
                None,
            ),
            (Interface::IpInterface, None, None),
            (Interface::IpNetwork, None, Some(true)),
        ] {
            let text = encode(&descriptor_message(i, url, tls));
            assert!(
                !text.contains('=') && !text.contains('+') && !text.contains('/'),
                "{text}"
            );
            let d = decode(&text).unwrap();
            assert_eq!(d.tags.len(), 1);
            assert_eq!(d.tags[0].interface, Some(i.name()));
            assert_eq!(d.tags[0].canonical_url.as_deref(), url);
            assert_eq!(d.quality, "acceptable");
        }
        assert_eq!(
            decode(&encode(&descriptor_message(Interface::IpInterface, None, None)))
                .unwrap()
                .tags[0]
                .id,
            "0xe32c506ee93ed6fa"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode("!!!").is_err());
        // A valid descriptor cut short is not a message.
        let text = encode(&descriptor_message(
            Interface::ApiSession,
            Some("https://x.example/"),
            None,
        ));
        assert!(decode(&text[..text.len() / 2]).is_err());
    }
}
