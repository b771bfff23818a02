//! Command-line arguments of what browsers and real networks see: CORS origins and
//! response compression.

use clap::Args;

use crate::config::CorsOrigins;

/// Browser access and compression of the HTTP API.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Origins whose pages may call the API from a browser, comma-separated
    /// (`https://app.example.com,http://localhost:5173`), or `*` for any (refused in
    /// production). Also checked on WebSocket upgrades. Empty: same origin only.
    #[arg(long, env = "OPTIONHUB_CORS_ORIGINS", default_value = "", value_parser = CorsOrigins::parse)]
    pub cors_origins: CorsOrigins,
    /// Compress answers of 1 KiB and more with gzip, br or zstd, as the client's
    /// `Accept-Encoding` prefers (`false` turns it off, e.g. behind a compressing proxy).
    #[arg(long, env = "OPTIONHUB_HTTP_COMPRESSION", default_value_t = true, action = clap::ArgAction::Set)]
    pub http_compression: bool,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::HttpArgs;
    use crate::config::CorsOrigins;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        http: HttpArgs,
    }

    #[test]
    fn origins_and_compression_parse() {
        let flags = Flags::parse_from([
            "optionhub",
            "--cors-origins",
            "https://app.example.com,http://localhost:5173",
            "--http-compression",
            "false",
        ]);
        assert!(matches!(flags.http.cors_origins, CorsOrigins::List(ref l) if l.len() == 2));
        assert!(!flags.http.http_compression);
        let defaults = Flags::parse_from(["optionhub"]);
        assert_eq!(defaults.http.cors_origins, CorsOrigins::None);
        assert!(defaults.http.http_compression);
        assert!(Flags::try_parse_from(["optionhub", "--cors-origins", "not an origin"]).is_err());
    }
}
