//! Who we are on the network: the node key from the data directory, the
//! public IP for the enode (`cloud.external_ip`), and `enode.txt`.
//!
//! The IP is, in order: an explicit `cloud.external_ip`; with `auto`, the
//! cloud metadata endpoint(s) of `cloud.provider` (AWS IMDSv2, GCP, Azure
//! IMDS, each within [`METADATA_TIMEOUT`]); then `cloud.ip_echo_url`; else
//! the listen address, with a warning (127.0.0.1 when listening on all
//! interfaces, as go-ethereum prints it).

use std::{
    net::{IpAddr, Ipv4Addr},
    path::{Path, PathBuf},
    time::Duration,
};

use crate::config::{CloudConfig, CloudProvider, ExternalIp};

/// The file in the data directory holding our full enode URL.
pub const ENODE_FILE: &str = "enode.txt";

/// Time allowed for one cloud metadata request (the endpoints answer in
/// milliseconds inside the cloud; outside it they do not answer at all).
pub const METADATA_TIMEOUT: Duration = Duration::from_millis(500);

/// Time allowed for the IP echo service.
pub const ECHO_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the advertised IP came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpSource {
    /// `cloud.external_ip` names it.
    Configured,
    /// A cloud metadata endpoint (`aws`, `gcp` or `azure`).
    Metadata(&'static str),
    /// `cloud.ip_echo_url`.
    Echo,
    /// Nothing answered: the listen address.
    ListenAddress,
}

impl std::fmt::Display for IpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IpSource::Configured => f.write_str("cloud.external_ip"),
            IpSource::Metadata(provider) => write!(f, "{provider} metadata"),
            IpSource::Echo => f.write_str("cloud.ip_echo_url"),
            IpSource::ListenAddress => f.write_str("the listen address"),
        }
    }
}

/// The IP to advertise and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalAddress {
    /// The IP.
    pub ip: IpAddr,
    /// Its source.
    pub source: IpSource,
}

/// The base URLs of the cloud metadata services (overridable for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataEndpoints {
    /// AWS IMDS (`http://169.254.169.254`).
    pub aws: String,
    /// GCP metadata server (`http://metadata.google.internal`).
    pub gcp: String,
    /// Azure IMDS (`http://169.254.169.254`).
    pub azure: String,
}

impl Default for MetadataEndpoints {
    fn default() -> Self {
        MetadataEndpoints {
            aws: "http://169.254.169.254".into(),
            gcp: "http://metadata.google.internal".into(),
            azure: "http://169.254.169.254".into(),
        }
    }
}

/// Finds the public IP as `cloud.*` says.
#[derive(Debug, Clone)]
pub struct IpDiscovery {
    external_ip: ExternalIp,
    provider: CloudProvider,
    ip_echo_url: Option<String>,
    endpoints: MetadataEndpoints,
}

impl IpDiscovery {
    /// From `cloud.*`, with the real metadata endpoints.
    pub fn from_config(cloud: &CloudConfig) -> Self {
        IpDiscovery {
            external_ip: cloud.external_ip,
            provider: cloud.provider,
            ip_echo_url: cloud
                .ip_echo_url
                .clone()
                .filter(|url| !url.trim().is_empty()),
            endpoints: MetadataEndpoints::default(),
        }
    }

    /// The same with other metadata base URLs.
    pub fn with_endpoints(mut self, endpoints: MetadataEndpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// The IP to advertise for a node listening on `listen`.
    pub async fn resolve(&self, listen: IpAddr) -> ExternalAddress {
        if let ExternalIp::Fixed(ip) = self.external_ip {
            return ExternalAddress {
                ip,
                source: IpSource::Configured,
            };
        }
        if let Some(found) = self.ask_metadata().await {
            return found;
        }
        if let Some(url) = &self.ip_echo_url {
            match fetch_echo(url).await {
                Ok(ip) => {
                    return ExternalAddress {
                        ip,
                        source: IpSource::Echo,
                    };
                }
                Err(error) => tracing::warn!(%url, %error, "the IP echo service did not answer"),
            }
        }
        let ip = if listen.is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            listen
        };
        tracing::warn!(
            %ip,
            provider = self.provider.as_str(),
            "could not discover the public IP (cloud.external_ip is `auto`): the enode \
             advertises the listen address; set cloud.external_ip or cloud.ip_echo_url"
        );
        ExternalAddress {
            ip,
            source: IpSource::ListenAddress,
        }
    }

    /// Asks the metadata endpoints of the configured provider(s) at once;
    /// the first to answer in provider order wins.
    async fn ask_metadata(&self) -> Option<ExternalAddress> {
        let (aws, gcp, azure) = match self.provider {
            CloudProvider::None => return None,
            CloudProvider::Aws => (true, false, false),
            CloudProvider::Gcp => (false, true, false),
            CloudProvider::Azure => (false, false, true),
            CloudProvider::Auto => (true, true, true),
        };
        let client = match metadata_client() {
            Ok(client) => client,
            Err(error) => {
                tracing::warn!(%error, "cannot build the metadata HTTP client");
                return None;
            }
        };
        let (aws, gcp, azure) = tokio::join!(
            async {
                if aws {
                    aws_ip(&client, &self.endpoints.aws).await.ok()
                } else {
                    None
                }
            },
            async {
                if gcp {
                    gcp_ip(&client, &self.endpoints.gcp).await.ok()
                } else {
                    None
                }
            },
            async {
                if azure {
                    azure_ip(&client, &self.endpoints.azure).await.ok()
                } else {
                    None
                }
            },
        );
        [(aws, "aws"), (gcp, "gcp"), (azure, "azure")]
            .into_iter()
            .find_map(|(ip, provider)| {
                ip.map(|ip| ExternalAddress {
                    ip,
                    source: IpSource::Metadata(provider),
                })
            })
    }
}

/// A client for link-local metadata services: short timeout, no proxy.
fn metadata_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(METADATA_TIMEOUT)
        .no_proxy()
        .build()
}

/// Reads an IP from a response body: plain text, or JSON with an `ip` field.
fn parse_ip(body: &str) -> Result<IpAddr, String> {
    let text = body.trim();
    if let Ok(ip) = text.parse() {
        return Ok(ip);
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|value| value.get("ip")?.as_str()?.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "not an IP address: {:?}",
                text.chars().take(64).collect::<String>()
            )
        })
}

async fn text(response: reqwest::Result<reqwest::Response>) -> Result<String, String> {
    let response = response.map_err(|error| error.to_string())?;
    let response = response
        .error_for_status()
        .map_err(|error| error.to_string())?;
    response.text().await.map_err(|error| error.to_string())
}

/// AWS IMDSv2: a session token by PUT, then the public IPv4 with it.
async fn aws_ip(client: &reqwest::Client, base: &str) -> Result<IpAddr, String> {
    let token = text(
        client
            .put(format!("{base}/latest/api/token"))
            .header("X-aws-ec2-metadata-token-ttl-seconds", "60")
            .send()
            .await,
    )
    .await?;
    let body = text(
        client
            .get(format!("{base}/latest/meta-data/public-ipv4"))
            .header("X-aws-ec2-metadata-token", token.trim())
            .send()
            .await,
    )
    .await?;
    parse_ip(&body)
}

/// GCP: the first access config's external IP.
async fn gcp_ip(client: &reqwest::Client, base: &str) -> Result<IpAddr, String> {
    let url = format!(
        "{base}/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/external-ip"
    );
    let body = text(
        client
            .get(url)
            .header("Metadata-Flavor", "Google")
            .send()
            .await,
    )
    .await?;
    parse_ip(&body)
}

/// Azure IMDS: the first interface's public IPv4.
async fn azure_ip(client: &reqwest::Client, base: &str) -> Result<IpAddr, String> {
    let url = format!(
        "{base}/metadata/instance/network/interface/0/ipv4/ipAddress/0/publicIpAddress?api-version=2021-02-01&format=text"
    );
    let body = text(client.get(url).header("Metadata", "true").send().await).await?;
    parse_ip(&body)
}

async fn fetch_echo(url: &str) -> Result<IpAddr, String> {
    let client = reqwest::Client::builder()
        .timeout(ECHO_TIMEOUT)
        .build()
        .map_err(|error| error.to_string())?;
    parse_ip(&text(client.get(url).send().await).await?)
}

/// Writes `enode` (and a newline) to `<data_dir>/enode.txt`, replacing it.
pub fn write_enode_file(data_dir: &Path, enode: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(ENODE_FILE);
    let temporary = data_dir.join(format!(".{ENODE_FILE}.tmp"));
    std::fs::write(&temporary, format!("{enode}\n"))?;
    std::fs::rename(&temporary, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;

    /// A one-route-at-a-time HTTP server: `answer(method, path, headers)`
    /// gives the body of a 200, or `None` for a 404. Returns its base URL.
    async fn http_server(
        answer: impl Fn(&str, &str, &str) -> Option<String> + Send + Sync + 'static,
    ) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(answer);
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let request = String::from_utf8_lossy(&request).to_lowercase();
                    let mut words = request.split_whitespace();
                    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                    let response = match answer(method, path, &request) {
                        Some(body) => format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        ),
                        None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_string(),
                    };
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        base
    }

    fn cloud(provider: CloudProvider, echo: Option<String>) -> CloudConfig {
        CloudConfig {
            provider,
            ip_echo_url: echo,
            ..CloudConfig::default()
        }
    }

    /// Captures the log lines written while `f` runs on this thread.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn an_explicit_ip_wins() {
        let mut config = cloud(CloudProvider::Auto, Some("http://127.0.0.1:1/".into()));
        config.external_ip = ExternalIp::Fixed("198.51.100.4".parse().unwrap());
        let found = IpDiscovery::from_config(&config)
            .resolve("0.0.0.0".parse().unwrap())
            .await;
        assert_eq!(
            found,
            ExternalAddress {
                ip: "198.51.100.4".parse().unwrap(),
                source: IpSource::Configured
            }
        );
    }

    #[tokio::test]
    async fn provider_none_falls_back_to_the_listen_address_with_a_warning() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let discovery = IpDiscovery::from_config(&cloud(CloudProvider::None, None));
        let found = discovery.resolve("0.0.0.0".parse().unwrap()).await;
        assert_eq!(
            found,
            ExternalAddress {
                ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                source: IpSource::ListenAddress
            }
        );
        let found = discovery.resolve("10.1.2.3".parse().unwrap()).await;
        assert_eq!(found.ip, "10.1.2.3".parse::<IpAddr>().unwrap());
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(
            log.contains("WARN") && log.contains("could not discover the public IP"),
            "{log}"
        );
    }

    #[tokio::test]
    async fn the_echo_url_is_used() {
        let base = http_server(|method, path, _| {
            (method == "get" && path == "/ip").then(|| "203.0.113.9\n".to_string())
        })
        .await;
        let discovery =
            IpDiscovery::from_config(&cloud(CloudProvider::None, Some(format!("{base}/ip"))));
        assert_eq!(
            discovery.resolve("0.0.0.0".parse().unwrap()).await,
            ExternalAddress {
                ip: "203.0.113.9".parse().unwrap(),
                source: IpSource::Echo
            }
        );
        // JSON answers work too; a broken one falls through to the listen address.
        let json = http_server(|_, _, _| Some(r#"{"ip": "203.0.113.10"}"#.into())).await;
        let found = IpDiscovery::from_config(&cloud(CloudProvider::None, Some(json)))
            .resolve("0.0.0.0".parse().unwrap())
            .await;
        assert_eq!(found.ip, "203.0.113.10".parse::<IpAddr>().unwrap());
        let garbage = http_server(|_, _, _| Some("hello".into())).await;
        let found = IpDiscovery::from_config(&cloud(CloudProvider::None, Some(garbage)))
            .resolve("0.0.0.0".parse().unwrap())
            .await;
        assert_eq!(found.source, IpSource::ListenAddress);
    }

    #[tokio::test]
    async fn metadata_endpoints_speak_each_clouds_dialect() {
        let aws = http_server(|method, path, request| match (method, path) {
            ("put", "/latest/api/token")
                if request.contains("x-aws-ec2-metadata-token-ttl-seconds:") =>
            {
                Some("secret-token".into())
            }
            ("get", "/latest/meta-data/public-ipv4")
                if request.contains("x-aws-ec2-metadata-token: secret-token") =>
            {
                Some("192.0.2.1".into())
            }
            _ => None,
        })
        .await;
        let gcp = http_server(|_, path, request| {
            (path.ends_with("/access-configs/0/external-ip")
                && request.contains("metadata-flavor: google"))
            .then(|| "192.0.2.2".into())
        })
        .await;
        let azure = http_server(|_, path, request| {
            (path.contains("/publicipaddress") && request.contains("metadata: true"))
                .then(|| "192.0.2.3".into())
        })
        .await;
        let nothing = http_server(|_, _, _| None).await;
        let endpoints = |aws: &str, gcp: &str, azure: &str| MetadataEndpoints {
            aws: aws.into(),
            gcp: gcp.into(),
            azure: azure.into(),
        };
        let resolve = |provider, endpoints| async move {
            IpDiscovery::from_config(&cloud(provider, None))
                .with_endpoints(endpoints)
                .resolve("0.0.0.0".parse().unwrap())
                .await
        };
        let all = endpoints(&aws, &gcp, &azure);
        let found = resolve(CloudProvider::Aws, all.clone()).await;
        assert_eq!(found.source, IpSource::Metadata("aws"));
        assert_eq!(found.ip, "192.0.2.1".parse::<IpAddr>().unwrap());
        let found = resolve(CloudProvider::Gcp, all.clone()).await;
        assert_eq!(found.ip, "192.0.2.2".parse::<IpAddr>().unwrap());
        let found = resolve(CloudProvider::Azure, all.clone()).await;
        assert_eq!(found.ip, "192.0.2.3".parse::<IpAddr>().unwrap());
        // `auto` asks all of them; the first in provider order that answers wins.
        let found = resolve(CloudProvider::Auto, endpoints(&nothing, &nothing, &azure)).await;
        assert_eq!(found.source, IpSource::Metadata("azure"));
        let found = resolve(CloudProvider::Auto, endpoints(&nothing, &nothing, &nothing)).await;
        assert_eq!(found.source, IpSource::ListenAddress);
    }

    #[test]
    fn enode_file_is_written_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_enode_file(dir.path(), "enode://aa@1.2.3.4:30303").unwrap();
        assert_eq!(path, dir.path().join(ENODE_FILE));
        write_enode_file(dir.path(), "enode://bb@1.2.3.4:30303").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "enode://bb@1.2.3.4:30303\n"
        );
    }
}
