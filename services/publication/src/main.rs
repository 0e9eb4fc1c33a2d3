fn main() -> anyhow::Result<()> {
    conoceles_publication::cli::main()
}
