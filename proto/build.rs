//! Compiles every `.proto` under `conoceles/` with protox (no system protoc) and generates the
//! messages and gRPC stubs with tonic-prost-build. The encoded descriptor set is written too,
//! for gRPC reflection.

use std::path::{Path, PathBuf};
use std::{env, fs};

use prost::Message;

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=conoceles");
    let mut files = Vec::new();
    collect_protos(Path::new("conoceles"), &mut files)?;
    files.sort();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let descriptors = protox::compile(&files, ["."])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("conoceles_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    let mut config = tonic_prost_build::Config::new();
    // `prost::Name` on every message: the AMQP `type` of an event is its full protobuf name.
    config.enable_type_names();
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds_with_config(descriptors, config)?;
    Ok(())
}
