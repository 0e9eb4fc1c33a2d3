fn main() -> anyhow::Result<()> {
    conoceles_statistics::cli::main()
}
