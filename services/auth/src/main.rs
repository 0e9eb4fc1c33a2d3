fn main() -> anyhow::Result<()> {
    conoceles_auth::cli::main()
}
