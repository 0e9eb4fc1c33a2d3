fn main() -> anyhow::Result<()> {
    conoceles_validation::cli::main()
}
