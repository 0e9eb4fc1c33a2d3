fn main() -> anyhow::Result<()> {
    conoceles_identity::cli::main()
}
